// Summary statistics for latency samples. Quantiles use linear interpolation between
// the closest ranks (Hyndman & Fan type 7, numpy's and R's default), so p50 of an even
// count is the mean of the two middle samples and p99 of 100 samples lies between the
// 99th and 100th.

export interface Summary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** The q-quantile (0 ≤ q ≤ 1) of `sorted`, which must be sorted ascending and non-empty. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of an empty sample');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile ${q} is outside [0, 1]`);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

export function quantile(samples: readonly number[], q: number): number {
  return quantileSorted(
    [...samples].sort((a, b) => a - b),
    q,
  );
}

/** Summary of `samples`, or undefined when there are none (a phase that did not run). */
export function summarize(samples: readonly number[]): Summary | undefined {
  if (samples.length === 0) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  return {
    count: s.length,
    min: s[0] as number,
    p50: quantileSorted(s, 0.5),
    p90: quantileSorted(s, 0.9),
    p99: quantileSorted(s, 0.99),
    max: s[s.length - 1] as number,
    mean: s.reduce((x, y) => x + y, 0) / s.length,
  };
}

/** Milliseconds rounded to 0.1 ms, the precision worth printing. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}
