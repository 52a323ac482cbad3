import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIdentityIssuer } from '../identity/issuer.ts';
import { issueLeaf } from '../identity/leaf.ts';
import { loadSigningCa } from '../identity/signing-ca.ts';
import { createTrustAnchor } from '../identity/trust-anchor.ts';
import { createLogger } from '../log/logger.ts';
import { FileIdentitySource } from './identity-source-files.ts';
import { issuerIdentitySource } from './identity-source-issuer.ts';
import { isValid, renewDelayMs, type Credentials } from './identity-source.ts';
import { IdentityFlagsError, parseIdentityFlags } from './identity-config.ts';

const quiet = createLogger({ write: () => undefined });
const ID = 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local';

test('renewal happens at 70% of the lifetime, clamped to 10 s–24 h', () => {
  const nb = new Date(0);
  assert.equal(renewDelayMs(nb, new Date(100_000_000), new Date(0)), 70_000_000);
  assert.equal(renewDelayMs(nb, new Date(1000), new Date(0)), 10_000);
  assert.equal(renewDelayMs(nb, new Date(10 * 24 * 3600_000), new Date(0)), 24 * 3600_000);
  assert.equal(renewDelayMs(nb, new Date(100_000), new Date(90_000)), 10_000, 'overdue renewals still wait the minimum');
});

test('exactly one identity source must be named, each complete, always with trust anchors', () => {
  assert.deepEqual(parseIdentityFlags({ cert: 'c', key: 'k', trustAnchors: 'a' }), {
    kind: 'files',
    certFile: 'c',
    keyFile: 'k',
    trustAnchorsFile: 'a',
  });
  assert.equal(parseIdentityFlags({ identityAddr: 'x:1', identityTokenFile: 't', identity: ID, trustAnchors: 'a' }).kind, 'service');
  for (const bad of [
    {},
    { cert: 'c', key: 'k' },
    { cert: 'c', trustAnchors: 'a' },
    { issuerCert: 'c', issuerKey: 'k', trustAnchors: 'a' },
    { cert: 'c', key: 'k', issuerCert: 'i', trustAnchors: 'a' },
  ]) {
    assert.throws(() => parseIdentityFlags(bad), IdentityFlagsError, JSON.stringify(bad));
  }
});

test('file identities are reloaded when the files change, and a broken rewrite keeps the old identity', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gw-id-'));
  const anchor = await createTrustAnchor();
  const issuer = await createIdentityIssuer(anchor);
  const ca = await loadSigningCa(issuer.certPem, issuer.keyPem, 'issuer');
  const write = async (lifetimeMs: number): Promise<void> => {
    const leaf = await issueLeaf(ca, { identity: ID, lifetimeMs });
    await writeFile(join(dir, 'tls.crt'), leaf.chainPem);
    await writeFile(join(dir, 'tls.key'), leaf.keyPem);
  };
  await writeFile(join(dir, 'ca.crt'), anchor.certPem);
  await write(3600_000);
  const src = new FileIdentitySource({
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    trustAnchorsFile: join(dir, 'ca.crt'),
    log: quiet,
    pollMs: 20,
  });
  await src.start();
  // The poller does not hold the event loop open (a server does); this test must.
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    const first = src.current();
    assert.equal(first?.identity, ID);
    assert.ok(isValid(first));
    const changed = new Promise<Credentials>((resolve) => src.onChange(resolve));
    await write(7200_000);
    const second = await changed;
    assert.ok(second.notAfter.getTime() > (first?.notAfter.getTime() ?? 0));
    await writeFile(join(dir, 'tls.key'), 'garbage');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(src.current(), second, 'an unloadable set is refused');
  } finally {
    clearInterval(keepAlive);
    src.stop();
  }
});

test('an issuer source self-issues a leaf for the identity that chains to the anchors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gw-iss-'));
  const anchor = await createTrustAnchor();
  const issuer = await createIdentityIssuer(anchor);
  await writeFile(join(dir, 'ca.crt'), anchor.certPem);
  await writeFile(join(dir, 'issuer.crt'), issuer.certPem);
  await writeFile(join(dir, 'issuer.key'), issuer.keyPem);
  const src = issuerIdentitySource({
    issuerCertFile: join(dir, 'issuer.crt'),
    issuerKeyFile: join(dir, 'issuer.key'),
    trustAnchorsFile: join(dir, 'ca.crt'),
    identity: ID,
    log: quiet,
  });
  await src.start();
  try {
    const c = src.current();
    assert.equal(c?.identity, ID);
    assert.equal(c?.trustAnchorsPem, anchor.certPem);
    assert.equal((c?.certChainPem.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, 'leaf and issuer');
  } finally {
    src.stop();
  }
});
