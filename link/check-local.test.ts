import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Endpoints, V1Lease, V1Service } from '@kubernetes/client-node';
import { controllerCheck, gatewayAliveCheck, mirrorEndpointsCheck, orphanMirrorsCheck } from './check-local.ts';
import { parseLink } from '../model/link-parse.ts';
import { fullLink } from './test-fixtures.ts';

const link = parseLink(fullLink());
const NOW = new Date('2025-06-01T12:00:30Z');
const lease = (holder: string | undefined, renew: string): V1Lease => ({
  spec: { holderIdentity: holder, leaseDurationSeconds: 30, renewTime: new Date(renew) },
});
const status = (r: { status: string }) => r.status;

describe('controllerCheck', () => {
  it('passes while the holder renews within the lease duration', () => {
    assert.equal(status(controllerCheck(link, lease('mirror-a', '2025-06-01T12:00:05Z'), NOW)), 'ok');
  });
  it('fails without a Lease, without a holder, and past the duration', () => {
    const messages = [undefined, lease(undefined, '2025-06-01T12:00:20Z'), lease('mirror-a', '2025-06-01T11:59:00Z')].map((l) => {
      const r = controllerCheck(link, l, NOW);
      assert.equal(r.status, 'fail');
      return r.status === 'fail' ? r.message : '';
    });
    assert.match(messages[0]!, /no Lease linkerd-multicluster\/service-mirror-write-east/);
    assert.match(messages[1]!, /has no holder/);
    assert.match(messages[2]!, /held by mirror-a was last renewed 90s ago, past its 30s duration/);
  });
});

describe('gatewayAliveCheck', () => {
  it('says where liveness came from', () => {
    const fromStatus = gatewayAliveCheck(link, { source: 'status', condition: { type: 'GatewayAlive', status: 'True' } });
    assert.equal(
      fromStatus.status === 'ok' && fromStatus.detail,
      "from the Link's GatewayAlive condition; pass --metrics-url east=<url> to read the controller's gateway_alive",
    );
    const dead = gatewayAliveCheck(link, {
      source: 'metrics',
      url: 'http://m/metrics',
      metrics: { alive: false, mirroredServices: 1, latency: undefined },
    });
    assert.equal(dead.status === 'fail' && dead.message, 'gateway_alive{target_cluster_name="east"} is 0 at http://m/metrics');
    assert.equal(gatewayAliveCheck(link, { source: 'status', condition: undefined }).status, 'fail');
  });
});

const svc = (ns: string, name: string, labels: Record<string, string>): V1Service => ({
  metadata: { namespace: ns, name, labels: { 'mirror.linkerd.io/mirrored-service': 'true', ...labels } },
});
const ep = (ns: string, name: string, ready: string[]): V1Endpoints => ({
  metadata: { namespace: ns, name },
  subsets: [{ addresses: ready.map((ip) => ({ ip })), notReadyAddresses: [{ ip: '10.9.9.9' }] }],
});

describe('mirror checks', () => {
  const mirrors = [
    svc('web', 'a-east', { 'mirror.linkerd.io/cluster-name': 'east' }),
    svc('web', 'b-east', { 'mirror.linkerd.io/cluster-name': 'east' }),
    svc('web', 'p2p-east', { 'mirror.linkerd.io/cluster-name': 'east', 'multicluster.linkerd.io/remote-discovery': 'east' }),
    svc('web', 'a-west', { 'mirror.linkerd.io/cluster-name': 'west' }),
    svc('web', 'fed-federated', {}),
  ];
  it('needs ready endpoints for gateway mirrors only', () => {
    const r = mirrorEndpointsCheck(link, mirrors, [ep('web', 'a-east', ['10.0.0.1']), ep('web', 'b-east', [])]);
    assert.equal(r.status === 'fail' && r.message, '1 of 2 mirror Services have no ready endpoints: web/b-east');
    assert.equal(mirrorEndpointsCheck(link, mirrors, [ep('web', 'a-east', ['10.0.0.1']), ep('web', 'b-east', ['10.0.0.1'])]).status, 'ok');
  });
  it('warns about mirrors of clusters no Link targets, ignoring federated Services', () => {
    const r = orphanMirrorsCheck(mirrors, new Set(['east']));
    assert.equal(r.status, 'warn');
    assert.match(r.status === 'warn' ? r.message : '', /\(west\): web\/a-west$/);
    assert.equal(orphanMirrorsCheck(mirrors, new Set(['east', 'west'])).status, 'ok');
  });
});
