import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkInputError } from './errors.ts';
import { gatewayMetricsFor, histogramBuckets, histogramQuantile, parseMetricsUrls, parsePrometheusText, type Bucket } from './gateways-metrics.ts';

// What prom-client serves for the mirror (trimmed): one Link with 10 probes.
const TEXT = `# HELP gateway_alive Whether the remote gateway passed its probes (1), failed them (0)
# TYPE gateway_alive gauge
gateway_alive{target_cluster_name="cluster2"} 1
gateway_alive{target_cluster_name="other"} 0
# TYPE service_mirror_mirrored_services gauge
service_mirror_mirrored_services{target_cluster_name="cluster2"} 3
# TYPE gateway_probe_latency_ms histogram
gateway_probe_latency_ms_bucket{le="1",target_cluster_name="cluster2"} 0
gateway_probe_latency_ms_bucket{le="2",target_cluster_name="cluster2"} 4
gateway_probe_latency_ms_bucket{le="5",target_cluster_name="cluster2"} 8
gateway_probe_latency_ms_bucket{le="10",target_cluster_name="cluster2"} 10
gateway_probe_latency_ms_bucket{le="+Inf",target_cluster_name="cluster2"} 10
gateway_probe_latency_ms_sum{target_cluster_name="cluster2"} 31.5
gateway_probe_latency_ms_count{target_cluster_name="cluster2"} 10
weird{a="x\\"y\\\\z",b="line\\nbreak"} 2.5e-3 1700000000000
`;

describe('histogramQuantile', () => {
  const b = (pairs: Array<[number, number]>): Bucket[] => pairs.map(([le, count]) => ({ le, count }));
  it('interpolates within the bucket holding the rank, like Prometheus', () => {
    const buckets = b([
      [1, 0],
      [2, 4],
      [5, 8],
      [10, 10],
      [Infinity, 10],
    ]);
    assert.equal(histogramQuantile(0.5, buckets), 2 + 3 * (1 / 4)); // rank 5: 1 of 4 into (2,5]
    assert.equal(histogramQuantile(0.2, buckets), 1 + 1 * (2 / 4)); // rank 2 in (1,2]
    assert.equal(histogramQuantile(0.95, buckets), 5 + 5 * (1.5 / 2));
    assert.equal(histogramQuantile(1, buckets), 10);
  });
  it('starts the first bucket at zero', () => {
    assert.equal(
      histogramQuantile(
        0.5,
        b([
          [4, 2],
          [Infinity, 2],
        ]),
      ),
      2,
    );
  });
  it('answers the highest finite bound for ranks in +Inf', () => {
    assert.equal(
      histogramQuantile(
        0.99,
        b([
          [1, 1],
          [2, 2],
          [Infinity, 100],
        ]),
      ),
      2,
    );
  });
  it('is undefined without observations or without +Inf, and sorts its input', () => {
    assert.equal(
      histogramQuantile(
        0.5,
        b([
          [1, 0],
          [Infinity, 0],
        ]),
      ),
      undefined,
    );
    assert.equal(
      histogramQuantile(
        0.5,
        b([
          [1, 3],
          [2, 5],
        ]),
      ),
      undefined,
    );
    assert.equal(histogramQuantile(0.5, []), undefined);
    assert.equal(
      histogramQuantile(
        0.5,
        b([
          [Infinity, 4],
          [2, 4],
          [1, 0],
        ]),
      ),
      1.5,
    );
    assert.throws(() => histogramQuantile(1.5, b([[Infinity, 1]])), RangeError);
  });
  it('reads the buckets of one cluster from samples', () => {
    const samples = parsePrometheusText(TEXT);
    assert.deepEqual(histogramBuckets(samples, 'gateway_probe_latency_ms', { target_cluster_name: 'other' }), []);
    assert.equal(histogramBuckets(samples, 'gateway_probe_latency_ms', { target_cluster_name: 'cluster2' }).length, 5);
  });
});

describe('gatewayMetricsFor', () => {
  it('picks one cluster out of the controller metrics', () => {
    const samples = parsePrometheusText(TEXT);
    assert.deepEqual(gatewayMetricsFor(samples, 'cluster2'), { alive: true, mirroredServices: 3, latency: { p50: 2.75, p95: 8.75, p99: 9.75 } });
    assert.deepEqual(gatewayMetricsFor(samples, 'other'), { alive: false, mirroredServices: undefined, latency: undefined });
    assert.deepEqual(gatewayMetricsFor(samples, 'nope'), { alive: undefined, mirroredServices: undefined, latency: undefined });
  });
});

describe('parseMetricsUrls', () => {
  it('keys URLs by Link name', () => {
    const m = parseMetricsUrls(['cluster2=http://127.0.0.1:9999/metrics', 'east=https://e:1/m?x=a=b']);
    assert.equal(m.get('cluster2')?.href, 'http://127.0.0.1:9999/metrics');
    assert.equal(m.get('east')?.search, '?x=a=b');
  });
  it('rejects malformed and repeated entries with a usage error', () => {
    for (const bad of ['http://x/metrics', '=http://x', 'a=', 'a=ftp://x', 'a=not a url']) {
      assert.throws(
        () => parseMetricsUrls([bad]),
        (err: unknown) => err instanceof LinkInputError && /expected <link>=<url>/.test(err.message),
        bad,
      );
    }
    assert.throws(() => parseMetricsUrls(['a=http://x', 'a=http://y']), /given twice/);
  });
});
