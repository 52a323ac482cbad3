import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../cli/usage-error.ts';
import { type IdentityFlags, parseIdentityConfig } from './command.ts';

const FLAGS: IdentityFlags = {
  listen: '0.0.0.0:8080',
  adminListen: '0.0.0.0:9990',
  issuerCert: '/var/run/linkerd/identity/issuer/crt.pem',
  issuerKey: '/var/run/linkerd/identity/issuer/key.pem',
  trustAnchors: '/var/run/linkerd/identity/trust-roots/ca-bundle.crt',
  trustDomain: 'cluster.local',
  controlNamespace: 'linkerd',
  issuanceLifetime: '24h0m0s',
  clockSkewAllowance: '20s',
  shutdownGrace: '5s',
  logLevel: 'info',
};

test('flags become a frozen config with Linkerd identity defaults', () => {
  const cfg = parseIdentityConfig(FLAGS);
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.scope) && Object.isFrozen(cfg.listen));
  assert.deepEqual(cfg.listen, { host: '0.0.0.0', port: 8080 });
  assert.equal(cfg.serviceName, 'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local');
  assert.equal(cfg.issuanceLifetimeMs, 24 * 3600_000);
  assert.equal(cfg.clockSkewAllowanceMs, 20_000);
  assert.equal(cfg.kubeconfig, undefined);
  const other = parseIdentityConfig({ ...FLAGS, controlNamespace: 'l5d', trustDomain: 'east.example', listen: ':18080' });
  assert.equal(other.serviceName, 'linkerd-identity.l5d.serviceaccount.identity.l5d.east.example');
  assert.deepEqual(other.listen, { host: '0.0.0.0', port: 18080 });
});

test('bad flags are usage errors that name the flag', () => {
  const cases: Array<[Partial<IdentityFlags>, RegExp]> = [
    [{ issuanceLifetime: '0' }, /^--issuance-lifetime must be greater than zero/],
    [{ issuanceLifetime: '1d' }, /^--issuance-lifetime: invalid duration "1d"/],
    [{ clockSkewAllowance: '-1s' }, /^--clock-skew-allowance: invalid duration "-1s": it is negative/],
    [{ listen: 'localhost' }, /^--listen: invalid listen address "localhost"/],
    [{ adminListen: ':99999' }, /^--admin-listen: invalid listen address/],
    [{ trustDomain: 'Cluster.Local' }, /^invalid --trust-domain\/--control-namespace: .*trust domain "Cluster\.Local"/],
    [{ controlNamespace: 'linkerd_ns' }, /^invalid --trust-domain\/--control-namespace: .*namespace "linkerd_ns"/],
  ];
  for (const [override, message] of cases) {
    assert.throws(
      () => parseIdentityConfig({ ...FLAGS, ...override }),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
      JSON.stringify(override),
    );
  }
});
