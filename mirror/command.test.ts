import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../cli/usage-error.ts';
import { parseMirrorConfig } from './command.ts';

const flags = {
  namespace: 'linkerd-multicluster',
  localMirror: false,
  federatedServiceSelector: 'mirror.linkerd.io/federated=member',
  enableNamespaceCreation: false,
  enableHeadlessServices: false,
  keepMirrorsOnUnlink: false,
  endpointRefreshPeriod: '1m',
  workers: '16',
  metricsAddr: ':9999',
  identity: 'pod-a',
  leaseDuration: '30s',
  leaseRenew: '10s',
  leaseRetry: '2s',
  shutdownTimeout: '10s',
  logLevel: 'info',
};

test('a Link controller takes its Lease and field manager from the Link name', () => {
  const cfg = parseMirrorConfig({ ...flags, link: 'east' });
  assert.equal(cfg.linkName, 'east');
  assert.equal(cfg.localMirror, undefined);
  assert.equal(cfg.leaseName, 'service-mirror-write-east');
  assert.equal(cfg.fieldManager, 'service-mirror-east');
});

test('--local-mirror serves no Link, and parses its federated selector', () => {
  const cfg = parseMirrorConfig({ ...flags, localMirror: true, federatedServiceSelector: 'team=a,tier in (web)' });
  assert.equal(cfg.linkName, '');
  assert.deepEqual(cfg.localMirror?.federatedSelector, {
    matchLabels: { team: 'a' },
    matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }],
  });
  assert.equal(cfg.leaseName, 'local-service-mirror-write');
  assert.equal(cfg.fieldManager, 'local-service-mirror');
});

test('bad combinations are usage errors that say what to change', () => {
  assert.throws(
    () => parseMirrorConfig({ ...flags }),
    (e: unknown) => e instanceof UsageError && /--link <name>.*or --local-mirror/.test(e.message),
  );
  assert.throws(() => parseMirrorConfig({ ...flags, localMirror: true }, 'east'), /--local-mirror serves no Link: drop the Link name "east"/);
  assert.throws(
    () => parseMirrorConfig({ ...flags, localMirror: true, federatedServiceSelector: 'a in (' }),
    /invalid --federated-service-selector "a in \("/,
  );
});
