import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { parseServiceName, podResolvConf, readyAddresses } from './cluster-dns.ts';
import { pairTopology } from './topology.ts';

describe('cluster DNS stand-in', () => {
  it('parses service and per-host names under the cluster domain only', () => {
    assert.deepEqual(parseServiceName('web.demo.svc.cluster.local.', 'cluster.local'), { service: 'web', namespace: 'demo' });
    assert.deepEqual(parseServiceName('Db-0.DB.demo.svc.cluster.local', 'cluster.local'), { host: 'db-0', service: 'db', namespace: 'demo' });
    assert.equal(parseServiceName('web.demo.svc.example.org', 'cluster.local'), undefined);
    assert.equal(parseServiceName('demo.svc.cluster.local', 'cluster.local'), undefined);
    assert.equal(parseServiceName('example.com', 'cluster.local'), undefined);
  });

  it('answers ready IPv4 endpoints, by hostname when asked', () => {
    const slice = (addressType: string, eps: Array<[string, boolean, string?]>): V1EndpointSlice => ({
      addressType,
      endpoints: eps.map(([ip, ready, hostname]) => ({ addresses: [ip], conditions: { ready }, ...(hostname ? { hostname } : {}) })),
    });
    const slices = [
      slice('IPv4', [
        ['10.0.0.2', true, 'db-0'],
        ['10.0.0.1', true, 'db-1'],
        ['10.0.0.3', false],
      ]),
      slice('IPv6', [['fd00::1', true]]),
    ];
    assert.deepEqual(readyAddresses(slices), ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual(readyAddresses(slices, 'db-1'), ['10.0.0.1']);
    assert.deepEqual(readyAddresses(slices, 'db-9'), []);
  });

  it("gives pods Kubernetes' search path and this cluster's server", () => {
    const c = pairTopology(3).clusters.cluster2;
    assert.equal(
      podResolvConf(c, 'demo'),
      `nameserver ${c.apiServerIp}\nsearch demo.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`,
    );
  });
});
