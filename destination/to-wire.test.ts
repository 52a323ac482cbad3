import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destinationServiceDefinition, type DestinationProfileOut, type UpdateOut } from '../proto/load.ts';
import { wireCodec } from './to-wire.ts';

const def = destinationServiceDefinition();
const decodeUpdate = (b: Buffer) => def.Get.responseDeserialize(b) as UpdateOut;
const codec = wireCodec();

test('a remote pod endpoint on the wire: address, weight, labels, identity with server name, H2, keep-alive', () => {
  const id = 'web.shop.serviceaccount.identity.linkerd.east.example';
  const u = decodeUpdate(
    codec.encodeUpdate({
      kind: 'add',
      setLabels: { service: 'web-east', namespace: 'shop' },
      endpoints: [
        {
          ip: '10.22.0.5',
          port: 8080,
          weight: 10000,
          labels: { pod: 'web-1' },
          identity: { name: id, serverName: id },
          hint: { kind: 'h2' },
          http2: true,
        },
      ],
    }),
  );
  assert.equal(u.update, 'add');
  if (u.update !== 'add') return;
  assert.deepEqual(u.add.metric_labels, { service: 'web-east', namespace: 'shop' });
  const a = u.add.addrs[0];
  assert.deepEqual(a?.addr, { ip: { ip: 'ipv4', ipv4: 0x0a160005 }, port: 8080 });
  assert.equal(a?.weight, 10000);
  assert.deepEqual(a?.metric_labels, { pod: 'web-1' });
  assert.deepEqual(a?.tls_identity, { strategy: 'dns_like_identity', dns_like_identity: { name: id }, server_name: { name: id } });
  assert.equal(a?.protocol_hint?.protocol, 'h2');
  assert.equal(a?.protocol_hint?.opaque_transport, null);
  assert.equal(a?.authority_override, null);
  assert.deepEqual(a?.http2?.keep_alive, { interval: { seconds: '10', nanos: 0 }, timeout: { seconds: '3', nanos: 0 }, while_idle: true });
});

test('gateway endpoint: no server name, authority override; opaque hint carries the inbound port', () => {
  const u = decodeUpdate(
    codec.encodeUpdate({
      kind: 'add',
      setLabels: {},
      endpoints: [
        {
          ip: '10.22.255.1',
          port: 4143,
          weight: 10000,
          labels: {},
          identity: { name: 'gw.id' },
          hint: { kind: 'h2' },
          authorityOverride: 'web.shop.svc.cluster.local:80',
          http2: true,
        },
        { ip: 'fd00::1', port: 9000, weight: 10000, labels: {}, hint: { kind: 'opaque', inboundPort: 4143 }, http2: true },
      ],
    }),
  );
  if (u.update !== 'add') return assert.fail(`expected add, got ${u.update}`);
  const [gw, opaque] = u.add.addrs;
  assert.equal(gw?.tls_identity?.server_name, null);
  assert.deepEqual(gw?.authority_override, { authority_override: 'web.shop.svc.cluster.local:80' });
  assert.equal(opaque?.protocol_hint?.protocol, 'opaque');
  assert.deepEqual(opaque?.protocol_hint?.opaque_transport, { inbound_port: 4143 });
  assert.equal(opaque?.addr?.ip?.ip, 'ipv6');
  assert.equal(opaque?.tls_identity, null);
});

test('remove and no_endpoints', () => {
  assert.deepEqual(decodeUpdate(codec.encodeUpdate({ kind: 'remove', addrs: [{ ip: '10.0.0.1', port: 80 }] })), {
    update: 'remove',
    remove: { addrs: [{ ip: { ip: 'ipv4', ipv4: 0x0a000001 }, port: 80 }] },
  });
  for (const exists of [true, false]) {
    const u = decodeUpdate(codec.encodeUpdate({ kind: 'no-endpoints', exists }));
    assert.deepEqual(u.update === 'no_endpoints' && u.no_endpoints, { exists });
  }
});

test('profile: fully qualified name, opaque protocol, retry budget', () => {
  const p = def.GetProfile.responseDeserialize(
    codec.encodeProfile({ fullyQualifiedName: 'web.shop.svc.cluster.local', opaqueProtocol: true }),
  ) as DestinationProfileOut;
  assert.equal(p.fully_qualified_name, 'web.shop.svc.cluster.local');
  assert.equal(p.opaque_protocol, true);
  assert.equal(p.retry_budget?.min_retries_per_second, 10);
});
