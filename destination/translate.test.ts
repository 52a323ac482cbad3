import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { podShape, sliceShape } from './cache-shapes.ts';
import { podOwner, proxyInboundPort, translateEndpoints } from './translate.ts';

const service = (annotations: Record<string, string> = {}): V1Service => ({
  metadata: { name: 'web', namespace: 'shop', annotations },
  spec: {
    ports: [
      { name: 'http', port: 80 },
      { name: 'db', port: 5432 },
    ],
  },
});

const slice = (endpoints: V1EndpointSlice['endpoints'], annotations?: Record<string, string>): V1EndpointSlice => ({
  metadata: { name: 'web-abc', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' }, annotations },
  addressType: 'IPv4',
  ports: [
    { name: 'http', port: 8080 },
    { name: 'db', port: 5432 },
  ],
  endpoints,
});

const pod = (name: string, meshed: boolean, extra: Partial<V1Pod['metadata']> = {}): V1Pod => ({
  metadata: {
    name,
    namespace: 'shop',
    labels: { ...(meshed ? { 'linkerd.io/control-plane-ns': 'linkerd-east' } : {}), 'pod-template-hash': '5d9f' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d9f', uid: 'u', controller: true }],
    ...extra,
  },
  spec: { serviceAccountName: 'web-sa', containers: [{ name: 'app' }] },
});

test('remote meshed pods: pod IP:targetPort, labels, identity under the pod control namespace and the remote trust domain, H2', () => {
  const pods = new Map([['web-1', pod('web-1', true)]]);
  const out = translateEndpoints({
    service: service(),
    port: 80,
    slices: [slice([{ addresses: ['10.22.0.5'], targetRef: { kind: 'Pod', name: 'web-1' }, zone: 'z1', conditions: { ready: true } }])],
    pod: (n) => pods.get(n),
    cluster: { remoteName: 'east', trustDomain: 'east.example' },
  });
  const id = 'web-sa.shop.serviceaccount.identity.linkerd-east.east.example';
  assert.deepEqual(out, [
    {
      ip: '10.22.0.5',
      port: 8080,
      weight: 10000,
      labels: {
        pod: 'web-1',
        serviceaccount: 'web-sa',
        deployment: 'web',
        pod_template_hash: '5d9f',
        zone: 'z1',
        zone_locality: 'remote',
        control_plane_ns: 'linkerd-east',
      },
      identity: { name: id, serverName: id },
      hint: { kind: 'h2' },
      http2: true,
    },
  ]);
});

test('opaque ports (Service annotation on the port, or pod annotation on the target port) give an opaque hint with the inbound port', () => {
  const pods = new Map([['web-1', pod('web-1', true, { annotations: { 'config.linkerd.io/opaque-ports': '8080' } })]]);
  const input = {
    slices: [slice([{ addresses: ['10.22.0.5'], targetRef: { kind: 'Pod', name: 'web-1' } }])],
    pod: (n: string) => pods.get(n),
    cluster: { remoteName: 'east', trustDomain: 'cluster.local' },
  };
  assert.deepEqual(translateEndpoints({ ...input, service: service(), port: 80 })?.[0]?.hint, { kind: 'opaque', inboundPort: 4143 });
  assert.deepEqual(translateEndpoints({ ...input, service: service({ 'config.linkerd.io/opaque-ports': '5432' }), port: 5432 })?.[0]?.hint, {
    kind: 'opaque',
    inboundPort: 4143,
  });
  const plain = new Map([['web-1', pod('web-1', true)]]);
  assert.deepEqual(translateEndpoints({ ...input, pod: (n) => plain.get(n), service: service(), port: 5432 })?.[0]?.hint, { kind: 'h2' });
});

test('unmeshed pods get labels but no identity, hint or HTTP/2 parameters; not-ready and terminating endpoints are left out', () => {
  const pods = new Map([['web-2', pod('web-2', false)]]);
  const out = translateEndpoints({
    service: service(),
    port: 80,
    slices: [
      slice([
        { addresses: ['10.23.0.7'], targetRef: { kind: 'Pod', name: 'web-2' } },
        { addresses: ['10.23.0.8'], conditions: { ready: false } },
        { addresses: ['10.23.0.9'], conditions: { ready: true, terminating: true } },
      ]),
    ],
    pod: (n) => pods.get(n),
    cluster: { trustDomain: 'cluster.local' },
  });
  assert.equal(out?.length, 1);
  assert.equal(out?.[0]?.identity, undefined);
  assert.equal(out?.[0]?.hint, undefined);
  assert.equal(out?.[0]?.http2, false);
  assert.equal(out?.[0]?.labels['zone_locality'], 'unknown');
});

test('gateway slices: gateway address, identity without server name, authority override, H2', () => {
  const out = translateEndpoints({
    service: service(),
    port: 80,
    slices: [
      {
        ...slice([{ addresses: ['10.22.255.1'] }], {
          'mirror.linkerd.io/remote-gateway-identity': 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
          'mirror.linkerd.io/remote-svc-fq-name': 'web.shop.svc.cluster.local',
        }),
        ports: [{ name: 'http', port: 4143 }],
      },
    ],
    pod: () => undefined,
    cluster: { trustDomain: 'cluster.local' },
  });
  assert.deepEqual(out, [
    {
      ip: '10.22.255.1',
      port: 4143,
      weight: 10000,
      labels: { zone_locality: 'unknown' },
      identity: { name: 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local' },
      hint: { kind: 'h2' },
      http2: true,
      authorityOverride: 'web.shop.svc.cluster.local:80',
    },
  ]);
});

test('a port the Service does not have is undefined; a slice without the port contributes nothing; duplicates collapse', () => {
  const base = { service: service(), pod: () => undefined, cluster: { trustDomain: 'cluster.local' } };
  assert.equal(translateEndpoints({ ...base, port: 81, slices: [] }), undefined);
  const noPort = { ...slice([{ addresses: ['10.0.0.1'] }]), ports: [{ name: 'other', port: 1 }] };
  assert.deepEqual(translateEndpoints({ ...base, port: 80, slices: [noPort] }), []);
  const dup = slice([{ addresses: ['10.0.0.1'] }]);
  assert.equal(translateEndpoints({ ...base, port: 80, slices: [dup, { ...dup, metadata: { name: 'web-def' } }] })?.length, 1);
});

test('an endpoint whose Pod is not (or no longer) cached is left out rather than sent without its identity', () => {
  const out = translateEndpoints({
    service: service(),
    port: 80,
    slices: [slice([{ addresses: ['10.22.0.5'], targetRef: { kind: 'Pod', name: 'gone' } }, { addresses: ['10.22.0.6'] }])],
    pod: () => undefined,
    cluster: { remoteName: 'east', trustDomain: 'td' },
  });
  assert.deepEqual(
    out?.map((e) => e.ip),
    ['10.22.0.6'],
  );
});

test('FQDN slices and addresses that are not IPs are left out', () => {
  const base = { service: service(), port: 80, pod: () => undefined, cluster: { trustDomain: 'td' } };
  assert.deepEqual(translateEndpoints({ ...base, slices: [{ ...slice([{ addresses: ['db.example.com'] }]), addressType: 'FQDN' }] }), []);
  assert.deepEqual(
    translateEndpoints({ ...base, slices: [slice([{ addresses: ['not-an-ip', '10.0.0.9'] }])] })?.map((e) => e.ip),
    ['10.0.0.9'],
  );
});

test('owners and inbound ports', () => {
  assert.deepEqual(podOwner(pod('p', true)), { kind: 'deployment', name: 'web' });
  assert.deepEqual(podOwner({ metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: '' }] } }), {
    kind: 'statefulset',
    name: 'db',
  });
  assert.equal(podOwner({ metadata: {} }), undefined);
  const withProxy: V1Pod = {
    spec: { containers: [{ name: 'linkerd-proxy', env: [{ name: 'LINKERD2_PROXY_INBOUND_LISTEN_ADDR', value: '[::]:4144' }] }] },
  };
  assert.equal(proxyInboundPort(withProxy), 4144);
  assert.equal(proxyInboundPort(pod('p', true)), 4143);
});

test('the cache shapes keep every field translation reads', () => {
  const full = pod('web-1', true, { annotations: { 'config.linkerd.io/opaque-ports': '8080', other: 'x' } });
  full.spec?.containers.push({
    name: 'linkerd-proxy',
    env: [
      { name: 'LINKERD2_PROXY_INBOUND_LISTEN_ADDR', value: '0.0.0.0:4150' },
      { name: 'X', value: 'y' },
    ],
  });
  const s = slice([{ addresses: ['10.22.0.5'], targetRef: { kind: 'Pod', name: 'web-1', namespace: 'shop', uid: 'u' }, zone: 'z1', nodeName: 'n' }], {
    'mirror.linkerd.io/remote-gateway-identity': 'gw',
    unrelated: 'x',
  });
  const input = (p: V1Pod, sl: V1EndpointSlice) => ({
    service: service(),
    port: 80,
    slices: [sl],
    pod: () => p,
    cluster: { remoteName: 'east', trustDomain: 'td' },
  });
  assert.deepEqual(translateEndpoints(input(podShape(full), sliceShape(s))), translateEndpoints(input(full, s)));
  assert.equal(podShape(full).metadata?.annotations?.['other'], undefined);
});

test('the slice cache reuses endpoints of unchanged slices and translates again when a pod changes', () => {
  const cache = new WeakMap();
  let current = pod('web-1', true);
  const s = slice([{ addresses: ['10.22.0.5'], targetRef: { kind: 'Pod', name: 'web-1' } }]);
  const input = () => ({ service: service(), port: 80, slices: [s], pod: () => current, cluster: { remoteName: 'east', trustDomain: 'td' } });
  const first = translateEndpoints(input(), cache);
  assert.equal(translateEndpoints(input(), cache)?.[0], first?.[0], 'same object while nothing changed');
  current = { ...pod('web-1', true), spec: { serviceAccountName: 'other', containers: [] } };
  current.metadata = { ...current.metadata, resourceVersion: '2' };
  const after = translateEndpoints(input(), cache);
  assert.equal(after?.[0]?.labels['serviceaccount'], 'other');
});
