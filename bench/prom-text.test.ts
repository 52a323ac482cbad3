import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText, sumOf } from './prom-text.ts';

const TEXT = `# HELP service_mirror_queue_depth Keys waiting
# TYPE service_mirror_queue_depth gauge
service_mirror_queue_depth{target_cluster_name="cluster2"} 12
service_mirror_reconcile_duration_seconds_sum{target_cluster_name="cluster2",outcome="done"} 1.5
service_mirror_reconcile_duration_seconds_sum{target_cluster_name="cluster2",outcome="retry"} 0.25
process_resident_memory_bytes 104857600
`;

test('sums filter by labels', () => {
  const s = parsePrometheusText(TEXT);
  assert.equal(sumOf(s, 'service_mirror_reconcile_duration_seconds_sum'), 1.75);
  assert.equal(sumOf(s, 'service_mirror_reconcile_duration_seconds_sum', { outcome: 'done' }), 1.5);
  assert.equal(sumOf(s, 'missing'), 0);
});
