import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsParseError, parsePrometheusText, parseSampleValue } from './text-format.ts';

const TEXT = `# HELP service_mirror_queue_depth Keys waiting
# TYPE service_mirror_queue_depth gauge
service_mirror_queue_depth{target_cluster_name="cluster2"} 12
gateway_probe_latency_ms_bucket{le="+Inf",target_cluster_name="cluster2"} 10
process_resident_memory_bytes 104857600

weird{a="x\\"y\\\\z",b="line\\nbreak"} 2.5e-3 1700000000000
`;

describe('parsePrometheusText', () => {
  it('reads names, labels with escapes, values and ignores timestamps, comments and blank lines', () => {
    const samples = parsePrometheusText(TEXT);
    assert.equal(samples.length, 4);
    assert.deepEqual(samples[0], { name: 'service_mirror_queue_depth', labels: { target_cluster_name: 'cluster2' }, value: 12 });
    assert.deepEqual(samples[2], { name: 'process_resident_memory_bytes', labels: {}, value: 104857600 });
    assert.deepEqual(samples[3], { name: 'weird', labels: { a: 'x"y\\z', b: 'line\nbreak' }, value: 0.0025 });
  });
  it('rejects what is not the text format, saying where', () => {
    assert.throws(() => parsePrometheusText('<html>oops</html>'), MetricsParseError);
    assert.throws(() => parsePrometheusText('ok 1\nm{a="x} 1'), /line 2: unterminated label value/);
    assert.throws(() => parsePrometheusText('m 1x'), /is not a sample value/);
  });
});

describe('parseSampleValue', () => {
  it('reads the special values and rejects others', () => {
    assert.equal(parseSampleValue('+Inf'), Infinity);
    assert.equal(parseSampleValue('-Inf'), -Infinity);
    assert.ok(Number.isNaN(parseSampleValue('NaN')));
    assert.equal(parseSampleValue('1e3'), 1000);
    assert.equal(parseSampleValue('one'), undefined);
  });
});
