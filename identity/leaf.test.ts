import assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createIdentityIssuer } from './issuer.ts';
import { issueLeaf } from './leaf.ts';
import { assertOpensslVerifies, openssl } from './openssl-test-util.ts';
import { loadSigningCa } from './signing-ca.ts';
import { tlsHandshake } from './tls-test-util.ts';
import { createTrustAnchor } from './trust-anchor.ts';
import { parseCertificates, x509 } from './x509.ts';

const ID = 'default.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const GW = 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local';
const DAY = 24 * 3600_000;

const dir = mkdtempSync(join(tmpdir(), 'leaf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const anchor = await createTrustAnchor();
const issuerBundle = await createIdentityIssuer(anchor, { trustDomain: 'cluster.local' });
const issuer = await loadSigningCa(issuerBundle.certPem, issuerBundle.keyPem, 'identity issuer');

test('the leaf has exactly the shape Linkerd issues, per openssl', async () => {
  const leaf = await issueLeaf(issuer, { identity: ID });
  writeFileSync(join(dir, 'ca.crt'), anchor.certPem);
  writeFileSync(join(dir, 'issuer.crt'), issuerBundle.certPem);
  writeFileSync(join(dir, 'tls.crt'), leaf.chainPem);
  assertOpensslVerifies(dir, 'ca.crt', 'issuer.crt', 'tls.crt');
  assertOpensslVerifies(dir, 'ca.crt', 'issuer.crt', 'tls.crt', ['-x509_strict', '-purpose', 'sslserver']);
  assertOpensslVerifies(dir, 'ca.crt', 'issuer.crt', 'tls.crt', ['-x509_strict', '-purpose', 'sslclient']);

  const text = openssl(['x509', '-in', join(dir, 'tls.crt'), '-noout', '-text']);
  assert.equal(text.status, 0, text.stderr);
  const t = text.stdout;
  assert.match(t, new RegExp(`Subject: CN ?= ?${ID.replaceAll('.', '\\.')}\\n`));
  assert.match(t, /Issuer: CN ?= ?identity\.linkerd\.cluster\.local\n/);
  assert.match(t, new RegExp(`Subject Alternative Name: *\\n *DNS:${ID.replaceAll('.', '\\.')}\\n`));
  assert.match(t, /Key Usage: critical\n *Digital Signature, Key Encipherment\n/);
  assert.match(t, /Extended Key Usage: *\n *TLS Web Server Authentication, TLS Web Client Authentication\n/);
  assert.match(t, /Basic Constraints: critical\n *CA:FALSE/);
  assert.match(t, /ASN1 OID: prime256v1/);
  assert.match(t, /NIST CURVE: P-256/);
  assert.equal([...t.matchAll(/Signature Algorithm: ecdsa-with-SHA256/g)].length, 2);

  const native = new nodeCrypto.X509Certificate(leaf.chainPem);
  assert.equal(native.subjectAltName, `DNS:${ID}`, 'exactly one SAN');
  // tls.key belongs to tls.crt.
  assert.ok(native.checkPrivateKey(nodeCrypto.createPrivateKey(leaf.keyPem)));
  // tls.crt is the leaf followed by the issuer.
  assert.deepEqual(
    parseCertificates(leaf.chainPem).map((c) => c.subject),
    [`CN=${ID}`, issuerBundle.cert.subject],
  );
});

test('validity is now - skew .. now + lifetime + skew, clamped to the chain', async () => {
  const start = new Date('2031-03-01T00:00:00Z');
  const a = await createTrustAnchor({ now: start });
  const iBundle = await createIdentityIssuer(a, { now: start, lifetimeMs: 30 * DAY });
  const i = await loadSigningCa(iBundle.certPem, iBundle.keyPem, 'identity issuer', start);

  const now = new Date('2031-03-10T06:00:00Z');
  const leaf = await issueLeaf(i, { identity: ID, now });
  assert.equal(leaf.cert.notBefore.toISOString(), '2031-03-10T05:59:40.000Z');
  assert.equal(leaf.cert.notAfter.toISOString(), '2031-03-11T06:00:20.000Z');

  const custom = await issueLeaf(i, { identity: ID, now, lifetimeMs: 90 * 60_000, skewMs: 0 });
  assert.equal(custom.cert.notAfter.toISOString(), '2031-03-10T07:30:00.000Z');

  // The issuer expires 2031-03-31; a 48h leaf asked for on the 30th must stop with it.
  const late = new Date('2031-03-30T12:00:00Z');
  const clamped = await issueLeaf(i, { identity: ID, now: late, lifetimeMs: 2 * DAY });
  assert.equal(clamped.cert.notAfter.toISOString(), iBundle.cert.notAfter.toISOString());
  assert.equal(iBundle.cert.notAfter.toISOString(), '2031-03-31T00:00:00.000Z');

  // An issuer outliving the anchor in its own chain is clamped to the anchor too.
  const bundled = await loadSigningCa(iBundle.certPem + a.certPem, iBundle.keyPem, 'identity issuer', start);
  const shortAnchor = await createTrustAnchor({ now: start, lifetimeMs: 12 * DAY });
  const withShortChain = { ...bundled, chain: [shortAnchor.cert] };
  const c2 = await issueLeaf(withShortChain, { identity: ID, now, lifetimeMs: 5 * DAY });
  assert.equal(c2.cert.notAfter.toISOString(), shortAnchor.cert.notAfter.toISOString());
  assert.equal(parseCertificates(c2.chainPem).length, 3);
});

test('issuer is an intermediate CA with pathlen 0 named identity.<ns>.<trust-domain>', async () => {
  const i = await createIdentityIssuer(anchor, { trustDomain: 'west.example', controlNamespace: 'l5d' });
  const bc = i.cert.getExtension(x509.BasicConstraintsExtension);
  assert.equal(bc?.ca, true);
  assert.equal(bc?.pathLength, 0);
  assert.equal(i.cert.subject, 'CN=identity.l5d.west.example');
  // Linkerd's controller verifies the issuer against this DNS name, not the CN.
  assert.equal(new nodeCrypto.X509Certificate(i.certPem).subjectAltName, 'DNS:identity.l5d.west.example');
  assert.equal(i.cert.notAfter.getTime() <= anchor.cert.notAfter.getTime(), true);
  await assert.rejects(createIdentityIssuer(anchor, { trustDomain: 'Bad Domain' }), /invalid trust domain "Bad Domain"/);
});

test('a TLS 1.3 mTLS handshake between two issuer-signed workloads succeeds against the anchor', async () => {
  const server = await issueLeaf(issuer, { identity: GW });
  const client = await issueLeaf(issuer, { identity: ID });
  const result = await tlsHandshake({
    ca: anchor.certPem,
    server: { cert: server.chainPem, key: server.keyPem },
    client: { cert: client.chainPem, key: client.keyPem },
    // Linkerd clients send the server's identity as SNI.
    servername: GW,
  });
  assert.equal(result.protocol, 'TLSv1.3');
  assert.equal(result.serverSawClient.subjectaltname, `DNS:${ID}`);
  assert.equal(result.clientSawServer.subjectaltname, `DNS:${GW}`);
});

test('a workload from another trust anchor is refused', async () => {
  const otherAnchor = await createTrustAnchor();
  const otherIssuerBundle = await createIdentityIssuer(otherAnchor);
  const otherIssuer = await loadSigningCa(otherIssuerBundle.certPem, otherIssuerBundle.keyPem, 'identity issuer');
  const server = await issueLeaf(issuer, { identity: GW });
  const stranger = await issueLeaf(otherIssuer, { identity: ID });
  await assert.rejects(
    tlsHandshake({
      ca: anchor.certPem,
      server: { cert: server.chainPem, key: server.keyPem },
      client: { cert: stranger.chainPem, key: stranger.keyPem },
      servername: GW,
    }),
  );
});
