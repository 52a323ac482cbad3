// A keyed work queue in the manner of client-go's: a key waiting in the queue is stored
// once however often it is added, a key is never processed by two workers at once, and a
// key added while it is being processed runs again afterwards. Retry policy lives here and
// only here: handlers throw, the queue decides. Keys from watch events go ahead of keys from
// periodic passes (a repair pass queues every mirror; a change must not wait behind them).
import { backoffDelay, type BackoffOptions } from '../retry/backoff.ts';
import { PermanentError, RetryableError } from './errors.ts';

export type Outcome =
  | { kind: 'done' }
  | { kind: 'retry'; attempt: number; delayMs: number; error: RetryableError }
  | { kind: 'failed'; error: PermanentError }
  /** A bug, not a cluster condition: retried with backoff too, so it is never dropped silently. */
  | { kind: 'crashed'; attempt: number; delayMs: number; error: unknown };

/** When a run's key first entered the queue and when the run began (epoch ms, sub-ms precision). */
export interface RunTiming {
  queuedAt: number;
  startedAt: number;
}

export interface WorkQueueOptions<K extends string> {
  handle: (key: K, timing: RunTiming) => Promise<void>;
  workers: number;
  onOutcome?: (key: K, outcome: Outcome, durationMs: number) => void;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** 'event': something changed; 'background': a periodic re-check that may find nothing to do. */
export type Priority = 'event' | 'background';

export class WorkQueue<K extends string> {
  readonly #opts: WorkQueueOptions<K>;
  // A key promoted from background to event stays behind in #background; #queued says
  // which entry is live, and stale ones are dropped when reached.
  readonly #events: K[] = [];
  readonly #background: K[] = [];
  #eventHead = 0;
  #backgroundHead = 0;
  readonly #queued = new Map<K, Priority>();
  readonly #active = new Set<K>();
  /** Keys added while active: they run again once the current run ends. */
  readonly #dirty = new Set<K>();
  readonly #attempts = new Map<K, number>();
  readonly #timers = new Map<K, NodeJS.Timeout>();
  /** The first add of each key since its last run began: what a run's latency counts from. */
  readonly #queuedAt = new Map<K, number>();
  #running = 0;
  #stopped = false;
  #idleWaiters: Array<() => void> = [];

  readonly #backoff: BackoffOptions;

  constructor(opts: WorkQueueOptions<K>) {
    this.#opts = opts;
    this.#backoff = { baseMs: opts.baseDelayMs ?? 100, capMs: opts.maxDelayMs ?? 30_000 };
  }

  get depth(): number {
    return this.#queued.size + this.#timers.size;
  }

  add(key: K, priority: Priority = 'event'): void {
    if (this.#stopped) return;
    if (!this.#queuedAt.has(key)) this.#queuedAt.set(key, epochMs());
    const t = this.#timers.get(key);
    if (t) {
      clearTimeout(t);
      this.#timers.delete(key);
    }
    if (this.#active.has(key)) {
      this.#dirty.add(key);
      return;
    }
    const queued = this.#queued.get(key);
    if (queued === 'event' || queued === priority) return;
    this.#queued.set(key, priority);
    (priority === 'event' ? this.#events : this.#background).push(key);
    this.#pump();
  }

  /** Stops taking work; resolves when the running handlers finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#events.length = this.#background.length = this.#eventHead = this.#backgroundHead = 0;
    this.#queued.clear();
    this.#queuedAt.clear();
    await this.idle();
  }

  /** Resolves once nothing is queued, running or waiting for a retry. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return this.#running === 0 && this.#queued.size === 0 && (this.#stopped || this.#timers.size === 0);
  }

  /** The next live key, events first; a key is queued only while not active. */
  #next(): K | undefined {
    this.#compact();
    while (this.#eventHead < this.#events.length) {
      const key = this.#events[this.#eventHead++] as K;
      if (this.#queued.get(key) === 'event') return key;
    }
    this.#events.length = this.#eventHead = 0;
    while (this.#backgroundHead < this.#background.length) {
      const key = this.#background[this.#backgroundHead++] as K;
      if (this.#queued.get(key) === 'background') return key;
    }
    this.#background.length = this.#backgroundHead = 0;
    return undefined;
  }

  /** Under sustained load a queue may never run dry; drop consumed entries now and then. */
  #compact(): void {
    if (this.#eventHead > 1024 && this.#eventHead * 2 > this.#events.length) {
      this.#events.splice(0, this.#eventHead);
      this.#eventHead = 0;
    }
    if (this.#backgroundHead > 1024 && this.#backgroundHead * 2 > this.#background.length) {
      this.#background.splice(0, this.#backgroundHead);
      this.#backgroundHead = 0;
    }
  }

  #pump(): void {
    while (!this.#stopped && this.#running < this.#opts.workers) {
      const key = this.#next();
      if (key === undefined) break;
      this.#queued.delete(key);
      this.#active.add(key);
      this.#running++;
      void this.#run(key);
    }
    if (this.#isIdle()) for (const w of this.#idleWaiters.splice(0)) w();
  }

  async #run(key: K): Promise<void> {
    const started = performance.now();
    const startedAt = epochMs();
    const queuedAt = this.#queuedAt.get(key) ?? startedAt;
    this.#queuedAt.delete(key);
    let outcome: Outcome;
    try {
      await this.#opts.handle(key, { queuedAt, startedAt });
      this.#attempts.delete(key);
      outcome = { kind: 'done' };
    } catch (err) {
      if (err instanceof RetryableError) {
        const attempt = (this.#attempts.get(key) ?? 0) + 1;
        this.#attempts.set(key, attempt);
        outcome = { kind: 'retry', attempt, delayMs: backoffDelay(attempt, this.#backoff), error: err };
      } else if (err instanceof PermanentError) {
        this.#attempts.delete(key);
        outcome = { kind: 'failed', error: err };
      } else {
        // A bug, not a cluster condition: log it loudly but keep the key alive with backoff.
        const attempt = (this.#attempts.get(key) ?? 0) + 1;
        this.#attempts.set(key, attempt);
        outcome = { kind: 'crashed', attempt, delayMs: backoffDelay(attempt, { ...this.#backoff, baseMs: 1000 }), error: err };
      }
    }
    this.#active.delete(key);
    this.#running--;
    this.#opts.onOutcome?.(key, outcome, performance.now() - started);
    if (!this.#stopped) {
      if (this.#dirty.delete(key)) {
        this.add(key);
      } else if (outcome.kind === 'retry' || outcome.kind === 'crashed') {
        const delay = outcome.delayMs;
        this.#timers.set(
          key,
          setTimeout(() => {
            this.#timers.delete(key);
            this.add(key);
          }, delay),
        );
      }
    }
    this.#pump();
  }
}

function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
