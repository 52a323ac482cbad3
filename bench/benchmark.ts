// The contract every benchmark under bench/ meets, so `npm run bench -- <name>` can run
// any of them: parse its own flags, measure our path and the reference path in the same
// run, and return the figures that main prints as the final JSON line.

export interface Benchmark {
  name: string;
  /** One line for `npm run bench` without a name. */
  summary: string;
  /** Flag help, printed on a usage error. */
  usage: string;
  /** Progress goes to `progress` (stderr); the result becomes the final JSON line on stdout. */
  run(argv: readonly string[], progress: (msg: string) => void): Promise<BenchResult>;
}

export type BenchResult = { bench: string } & Record<string, unknown>;

/** A bad flag: main prints the message and the benchmark's usage, and exits with 2. */
export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}
