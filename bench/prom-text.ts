// The controller's own figures (queue depth, reconcile histogram sums, error counters) summed
// from its /metrics samples.
import type { Sample } from '../prometheus/text-format.ts';

export { parsePrometheusText, type Sample } from '../prometheus/text-format.ts';

/** Sum of every sample named `name` whose labels include `where`. */
export function sumOf(samples: readonly Sample[], name: string, where: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((acc, s) => acc + s.value, 0);
}
