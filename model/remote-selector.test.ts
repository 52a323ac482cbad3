import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModeOf, serverSideSelector } from './remote-selector.ts';

const gateway = { matchLabels: { 'mirror.linkerd.io/exported': 'true' } };
const remoteDiscovery = { matchLabels: { 'mirror.linkerd.io/exported': 'remote-discovery' } };
const svc = (labels: Record<string, string>) => ({ metadata: { name: 's', namespace: 'n', labels } });

test('the default selectors collapse into one set-based server-side selector', () => {
  assert.equal(serverSideSelector({ gateway, remoteDiscovery }), 'mirror.linkerd.io/exported in (remote-discovery,true)');
  assert.equal(serverSideSelector({ remoteDiscovery }), 'mirror.linkerd.io/exported=remote-discovery');
  assert.equal(serverSideSelector({}), null);
  assert.equal(serverSideSelector({ gateway: { matchLabels: { a: '1' } }, remoteDiscovery: { matchLabels: { b: '2' } } }), undefined);
});

test('export mode follows the labels; gateway mode needs a gateway', () => {
  assert.equal(exportModeOf(svc({ 'mirror.linkerd.io/exported': 'true' }), { gateway, remoteDiscovery }, true), 'gateway');
  assert.equal(exportModeOf(svc({ 'mirror.linkerd.io/exported': 'true' }), { gateway, remoteDiscovery }, false), undefined);
  assert.equal(exportModeOf(svc({ 'mirror.linkerd.io/exported': 'remote-discovery' }), { gateway, remoteDiscovery }, true), 'remote-discovery');
  assert.equal(exportModeOf(svc({ app: 'x' }), { gateway, remoteDiscovery }, true), undefined);
  assert.equal(exportModeOf(svc({ 'mirror.linkerd.io/exported': 'true' }), {}, true), undefined, 'an empty selector matches nothing');
});
