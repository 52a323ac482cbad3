import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WeightedAddrOut } from '../proto/load.ts';
import { ipv4ToWire } from '../proto/load.ts';
import { dialPlan, fromWeightedAddr, speaksH2 } from './outbound-endpoint.ts';

const GW = 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local';

function addr(over: Partial<WeightedAddrOut>): WeightedAddrOut {
  return {
    addr: { ip: { ip: 'ipv4', ipv4: ipv4ToWire('10.22.255.1') } as never, port: 4143 },
    weight: 10000,
    metric_labels: {},
    tls_identity: null,
    protocol_hint: null,
    authority_override: null,
    http2: null,
    resource_ref: null,
    ...over,
  };
}

test('a gateway endpoint: mTLS with SNI = its identity and a header naming the override', () => {
  const e = fromWeightedAddr(
    addr({
      tls_identity: { strategy: 'dns_like_identity', dns_like_identity: { name: GW }, server_name: null },
      authority_override: { authority_override: 'web.demo.svc.cluster.local:80' },
    }),
  );
  assert.ok(e);
  assert.deepEqual(dialPlan(e, 'http2'), {
    host: '10.22.255.1',
    port: 4143,
    tls: { serverName: GW, identity: GW },
    header: { port: 80, name: 'web.demo.svc.cluster.local', protocol: 'http2' },
  });
  assert.deepEqual(dialPlan(e, undefined).header, { port: 80, name: 'web.demo.svc.cluster.local' });
  assert.ok(speaksH2(e));
});

test('a meshed pod with an opaque-transport port: header with the application port and no name', () => {
  const e = fromWeightedAddr(
    addr({
      addr: { ip: { ip: 'ipv4', ipv4: ipv4ToWire('10.1.0.5') } as never, port: 8080 },
      tls_identity: {
        strategy: 'dns_like_identity',
        dns_like_identity: { name: 'web.demo.serviceaccount.identity.linkerd.cluster.local' },
        server_name: { name: 'sni.example' },
      },
      protocol_hint: { protocol: 'h2', h2: {}, opaque_transport: { inbound_port: 4143 } },
    }),
  );
  assert.ok(e);
  const plan = dialPlan(e, 'http1');
  assert.deepEqual([plan.host, plan.port, plan.tls?.serverName, plan.header], ['10.1.0.5', 4143, 'sni.example', { port: 8080, protocol: 'http1' }]);
});

test('an override without a port names no target, and no identity means plaintext', () => {
  const noPort = fromWeightedAddr(
    addr({
      tls_identity: { strategy: 'dns_like_identity', dns_like_identity: { name: GW }, server_name: null },
      authority_override: { authority_override: 'web' },
    }),
  );
  assert.equal(noPort?.override, undefined);
  const plain = fromWeightedAddr(addr({}));
  assert.ok(plain);
  assert.deepEqual(dialPlan(plain, 'http2'), { host: '10.22.255.1', port: 4143 });
  assert.equal(speaksH2(plain), false);
  assert.equal(fromWeightedAddr(addr({ addr: null })), undefined);
});
