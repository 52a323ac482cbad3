import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../cli/usage-error.ts';
import { parseDestinationConfig } from './command.ts';

const flags = {
  listen: '0.0.0.0:8086',
  adminListen: '0.0.0.0:9996',
  controlNamespace: 'linkerd',
  clusterDomain: 'cluster.local',
  maxStreamBuffer: '16',
  firstListWait: '3s',
  logLevel: 'info',
};

test('defaults: Linkerd ports, credentials in the control namespace, cluster.local', () => {
  const cfg = parseDestinationConfig(flags);
  assert.deepEqual(cfg.listen, { host: '0.0.0.0', port: 8086 });
  assert.deepEqual(cfg.adminListen, { host: '0.0.0.0', port: 9996 });
  assert.equal(cfg.credentialsNamespace, 'linkerd');
  assert.equal(cfg.identityTrustDomain, 'cluster.local');
  assert.equal(cfg.maxStreamBufferBytes, 16 * 1024 * 1024);
  assert.equal(cfg.firstListWaitMs, 3000);
  assert.ok(Object.isFrozen(cfg));
});

test('--trust-domain is --identity-trust-domain; --credentials-namespace overrides the control namespace', () => {
  assert.equal(parseDestinationConfig({ ...flags, trustDomain: 'east.example' }).identityTrustDomain, 'east.example');
  assert.equal(parseDestinationConfig({ ...flags, trustDomain: 'x', identityTrustDomain: 'x' }).identityTrustDomain, 'x');
  assert.equal(parseDestinationConfig({ ...flags, credentialsNamespace: 'mc' }).credentialsNamespace, 'mc');
});

test('bad flags are UsageErrors that name the flag', () => {
  for (const [bad, flag] of [
    [{ listen: 'bogus' }, '--listen'],
    [{ adminListen: ':99999' }, '--admin-listen'],
    [{ maxStreamBuffer: '0' }, '--max-stream-buffer'],
    [{ firstListWait: 'soon' }, '--first-list-wait'],
    [{ trustDomain: 'a', identityTrustDomain: 'b' }, '--trust-domain'],
  ] as const) {
    assert.throws(
      () => parseDestinationConfig({ ...flags, ...bad }),
      (err: unknown) => err instanceof UsageError && err.message.includes(flag),
      flag,
    );
  }
});
