// The README's first command, end to end: `multicluster demo --once --json` brings up both dev
// clusters on the project's own manifests, sends traffic across them (through the gateway and
// pod to pod) and must report every service healthy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run } from '../dev/exec.ts';
import { BIN } from './fixtures/cli.ts';

interface DemoSummary {
  ok: boolean;
  failing: string[];
  steps: Array<{ name: string; ok: boolean }>;
  mirrors: string[];
  gateways: Array<{ clusterName: string; alive: boolean; numberOfServices: number; latencyMs: { p50: number; p99: number } | null }>;
  services: Array<{ target: string; requests: number; successRate: number | null; p50Ms: number | null; p99Ms: number | null }>;
}

test('multicluster demo --once --json: traffic crosses the clusters through the gateway and pod to pod', async () => {
  const out = await run(process.execPath, [BIN, 'demo', '--once', '--json', '--duration', '5s']);
  const summary = JSON.parse(out.trim().split('\n').pop() ?? '{}') as DemoSummary;
  assert.deepEqual(summary.failing, []);
  assert.equal(summary.ok, true);
  assert.ok(summary.steps.length >= 8 && summary.steps.every((s) => s.ok), JSON.stringify(summary.steps));
  assert.deepEqual(summary.mirrors, ['demo/world-cluster2', 'emojivoto/emoji-svc-cluster2', 'emojivoto/voting-svc-cluster2']);
  assert.deepEqual(
    summary.gateways.map((g) => [g.clusterName, g.alive, g.numberOfServices]),
    [['cluster2', true, 3]],
  );
  // LATENCY comes from the leading controller's probe histogram, which the demo finds through the Lease.
  const latency = summary.gateways[0]?.latencyMs;
  assert.ok(latency && latency.p50 > 0 && latency.p50 <= latency.p99, `gateway probe latency ${JSON.stringify(latency)}`);
  // hello-* cross the gateway (world is exported=true); web and vote go pod to pod (remote-discovery).
  assert.deepEqual(summary.services.map((s) => s.target).sort(), ['hello-grpc', 'hello-http', 'hello-stream', 'vote', 'web']);
  for (const s of summary.services) {
    assert.ok(s.requests > 0, `${s.target} sent no requests`);
    assert.ok((s.successRate ?? 0) >= 0.95, `${s.target} success rate ${s.successRate}`);
    assert.ok(s.p50Ms !== null && s.p99Ms !== null && s.p50Ms <= s.p99Ms, `${s.target} latency figures ${s.p50Ms}/${s.p99Ms}`);
  }
});
