// A keyed work queue in the manner of client-go's: a key waiting in the queue is stored
// once however often it is added, a key is never processed by two workers at once, and a
// key added while it is being processed runs again afterwards. Retry policy lives here and
// only here: handlers throw, the queue decides.
import { PermanentError, RetryableError } from './errors.ts';

export type Outcome =
  | { kind: 'done' }
  | { kind: 'retry'; attempt: number; delayMs: number; error: RetryableError }
  | { kind: 'failed'; error: PermanentError }
  | { kind: 'crashed'; error: unknown };

export interface WorkQueueOptions<K extends string> {
  handle: (key: K) => Promise<void>;
  workers: number;
  onOutcome?: (key: K, outcome: Outcome, durationMs: number) => void;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export class WorkQueue<K extends string> {
  readonly #opts: WorkQueueOptions<K>;
  readonly #queue: K[] = [];
  readonly #queued = new Set<K>();
  readonly #active = new Set<K>();
  /** Keys added while active: they run again once the current run ends. */
  readonly #dirty = new Set<K>();
  readonly #attempts = new Map<K, number>();
  readonly #timers = new Map<K, NodeJS.Timeout>();
  #running = 0;
  #stopped = false;
  #idleWaiters: Array<() => void> = [];

  constructor(opts: WorkQueueOptions<K>) {
    this.#opts = opts;
  }

  get depth(): number {
    return this.#queue.length + this.#timers.size;
  }

  add(key: K): void {
    if (this.#stopped) return;
    const t = this.#timers.get(key);
    if (t) {
      clearTimeout(t);
      this.#timers.delete(key);
    }
    if (this.#active.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    this.#pump();
  }

  /** Stops taking work; resolves when the running handlers finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#queue.length = 0;
    this.#queued.clear();
    await this.idle();
  }

  /** Resolves once nothing is queued, running or waiting for a retry. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return this.#running === 0 && this.#queue.length === 0 && (this.#stopped || this.#timers.size === 0);
  }

  #pump(): void {
    while (!this.#stopped && this.#running < this.#opts.workers) {
      const idx = this.#queue.findIndex((k) => !this.#active.has(k));
      if (idx < 0) break;
      const [key] = this.#queue.splice(idx, 1) as [K];
      this.#queued.delete(key);
      this.#active.add(key);
      this.#running++;
      void this.#run(key);
    }
    if (this.#isIdle()) for (const w of this.#idleWaiters.splice(0)) w();
  }

  async #run(key: K): Promise<void> {
    const started = performance.now();
    let outcome: Outcome;
    try {
      await this.#opts.handle(key);
      this.#attempts.delete(key);
      outcome = { kind: 'done' };
    } catch (err) {
      if (err instanceof RetryableError) {
        const attempt = (this.#attempts.get(key) ?? 0) + 1;
        this.#attempts.set(key, attempt);
        const base = this.#opts.baseDelayMs ?? 100;
        const delayMs = Math.min(base * 2 ** (attempt - 1), this.#opts.maxDelayMs ?? 30_000) * (0.9 + Math.random() * 0.2);
        outcome = { kind: 'retry', attempt, delayMs, error: err };
      } else if (err instanceof PermanentError) {
        this.#attempts.delete(key);
        outcome = { kind: 'failed', error: err };
      } else {
        // A bug, not a cluster condition: log it loudly but keep the key alive with backoff.
        const attempt = (this.#attempts.get(key) ?? 0) + 1;
        this.#attempts.set(key, attempt);
        outcome = { kind: 'crashed', error: err };
      }
    }
    this.#active.delete(key);
    this.#running--;
    this.#opts.onOutcome?.(key, outcome, performance.now() - started);
    if (!this.#stopped) {
      if (this.#dirty.delete(key)) {
        this.add(key);
      } else if (outcome.kind === 'retry' || outcome.kind === 'crashed') {
        const delay = outcome.kind === 'retry' ? outcome.delayMs : Math.min(1000 * 2 ** ((this.#attempts.get(key) ?? 1) - 1), this.#opts.maxDelayMs ?? 30_000);
        this.#timers.set(key, setTimeout(() => {
          this.#timers.delete(key);
          this.add(key);
        }, delay));
      }
    }
    this.#pump();
  }
}
