import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { UsageError } from '../cli/usage-error.ts';
import { parseGatewayConfig } from './command.ts';

const ID = 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local';
const defaults = {
  listen: '0.0.0.0:4143',
  adminListen: '0.0.0.0:4191',
  clusterDomain: 'cluster.local',
  maxConnections: '10000',
  maxConcurrentStreams: '1000',
  responseTimeout: '30s',
  connectTimeout: '5s',
  idleTimeout: '5m',
  handshakeTimeout: '10s',
  drainTimeout: '20s',
  logLevel: 'info',
};

test('flags become a frozen config with durations in milliseconds', () => {
  const cfg = parseGatewayConfig({ ...defaults, cert: 'c', key: 'k', trustAnchors: 'a', clusterDomain: 'east.example.' }, {});
  assert.ok(Object.isFrozen(cfg));
  assert.deepEqual(cfg.listen, { host: '0.0.0.0', port: 4143 });
  assert.equal(cfg.clusterDomain, 'east.example');
  assert.equal(cfg.limits.responseTimeoutMs, 30_000);
  assert.equal(cfg.limits.idleTimeoutMs, 300_000);
  assert.equal(cfg.identity.kind, 'files');
});

test('a Pod configured like a Linkerd proxy (LINKERD2_PROXY_IDENTITY_*) gets the identity service source', () => {
  const cfg = parseGatewayConfig(defaults, {
    LINKERD2_PROXY_IDENTITY_SVC_ADDR: 'linkerd-identity.linkerd.svc.cluster.local:8080',
    LINKERD2_PROXY_IDENTITY_TOKEN_FILE: '/var/run/secrets/tokens/linkerd-identity-token',
    LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
    MC_GATEWAY_IDENTITY: ID,
  });
  assert.equal(cfg.identity.kind, 'service');
  if (cfg.identity.kind !== 'service') return;
  assert.equal(cfg.identity.identity, ID);
  assert.equal(cfg.identity.addr, 'linkerd-identity.linkerd.svc.cluster.local:8080');
  assert.match(readFileSync(cfg.identity.trustAnchorsFile, 'utf8'), /BEGIN CERTIFICATE/);
});

test('flags win over the environment, and bad values are usage errors', () => {
  const cfg = parseGatewayConfig(
    { ...defaults, issuerCert: 'i', issuerKey: 'k', trustAnchors: 'a', identity: ID },
    { LINKERD2_PROXY_IDENTITY_SVC_ADDR: 'x:1' },
  );
  assert.equal(cfg.identity.kind, 'issuer');
  assert.throws(() => parseGatewayConfig(defaults, {}), UsageError);
  assert.throws(() => parseGatewayConfig({ ...defaults, cert: 'c', key: 'k', trustAnchors: 'a', listen: 'nope' }, {}), UsageError);
  assert.throws(() => parseGatewayConfig({ ...defaults, cert: 'c', key: 'k', trustAnchors: 'a', drainTimeout: '0s' }, {}), UsageError);
  assert.throws(() => parseGatewayConfig({ ...defaults, cert: 'c', key: 'k', trustAnchors: 'a', maxConnections: '-1' }, {}), UsageError);
});
