// Exponential backoff with jitter and a cap, for every retry loop (work queue, reflectors,
// Link sync, status writes). Jitter keeps many keys or replicas from retrying in lockstep;
// the cap keeps a key that keeps failing on a steady, bounded retry rather than a tight loop
// or an ever longer silence.

export interface BackoffOptions {
  /** First delay. */
  baseMs: number;
  /** Largest delay, jitter included. */
  capMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Share of the delay drawn at random around it: 0.2 gives ±10% (default 0.2). */
  jitter?: number;
}

/** The delay before retry number `attempt` (1 = the first retry). `random` is in [0, 1). */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const factor = o.factor ?? 2;
  const jitter = o.jitter ?? 0.2;
  const exp = Math.min(o.baseMs * factor ** Math.max(0, attempt - 1), o.capMs);
  return Math.min(exp * (1 - jitter / 2 + random() * jitter), o.capMs);
}

/** A backoff that remembers its attempt count until reset by a success. */
export class Backoff {
  #attempt = 0;

  constructor(
    readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** Failures since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Counts one more failure and returns how long to wait before the next try. */
  next(): number {
    this.#attempt++;
    return backoffDelay(this.#attempt, this.options, this.random);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
