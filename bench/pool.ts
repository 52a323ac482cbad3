// A bounded pool of in-flight async calls: both the setup writes and the reference path
// ("the same client creating the same objects") go through it, so they share one
// concurrency setting.

/** Runs `fn` over `items` with at most `concurrency` calls in flight; rejects on the first failure. */
export async function runPool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        await fn(items[i] as T, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

/** `runPool` that also reports the wall time, in milliseconds. */
export async function timePool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await runPool(items, concurrency, fn);
  return performance.now() - t0;
}
