import assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { test } from 'node:test';
import { tlsHandshake } from './tls-test-util.ts';
import {
  createSelfSignedCa,
  exportPublicKeyPem,
  generateKeyPair,
  IssuerExpiredError,
  IssuerNotCaError,
  issueCertificate,
  KeyMismatchError,
  loadCertBundle,
  parseCertificates,
  PemParseError,
  UnsupportedKeyError,
  x509,
} from './x509.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

test('self-signed CA is a P-256 ECDSA-SHA256 CA with the requested validity', async () => {
  const notBefore = new Date('2030-01-01T00:00:00Z');
  const ca = await createSelfSignedCa({ commonName: 'root.example', lifetimeMs: 10 * DAY, notBefore });
  assert.equal(ca.cert.subject, 'CN=root.example');
  assert.equal(ca.cert.issuer, 'CN=root.example');
  assert.equal(ca.cert.notBefore.toISOString(), notBefore.toISOString());
  assert.equal(ca.cert.notAfter.getTime(), notBefore.getTime() + 10 * DAY);
  const bc = ca.cert.getExtension(x509.BasicConstraintsExtension);
  assert.equal(bc?.ca, true);
  assert.equal(bc?.critical, true);
  const native = new nodeCrypto.X509Certificate(ca.certPem);
  assert.equal(native.ca, true);
  assert.equal(native.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(native.verify(native.publicKey), true);
  assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
});

test('issued certificates chain to the issuer, carry SANs/usages and are clamped to the issuer', async () => {
  const root = await createSelfSignedCa({ commonName: 'root.example', lifetimeMs: 2 * DAY });
  const inter = await issueCertificate(root, { commonName: 'inter.example', isCa: true, pathLength: 0, lifetimeMs: 30 * DAY });
  assert.equal(inter.cert.notAfter.getTime(), root.cert.notAfter.getTime(), 'intermediate clamped to root');
  assert.equal(inter.cert.getExtension(x509.BasicConstraintsExtension)?.pathLength, 0);

  const leaf = await issueCertificate(inter, {
    commonName: 'svc.example',
    organizations: ['system:masters'],
    dnsNames: ['svc.example', 'localhost'],
    ipAddresses: ['127.0.0.1'],
    usages: ['serverAuth'],
    lifetimeMs: HOUR,
    skewMs: 20_000,
  });
  const native = new nodeCrypto.X509Certificate(leaf.certPem);
  const nativeInter = new nodeCrypto.X509Certificate(inter.certPem);
  assert.equal(native.checkIssued(nativeInter), true);
  assert.equal(native.verify(nativeInter.publicKey), true);
  assert.equal(native.ca, false);
  assert.equal(native.subject, 'CN=svc.example\nO=system:masters');
  assert.equal(native.subjectAltName, 'DNS:svc.example, DNS:localhost, IP Address:127.0.0.1');
  assert.deepEqual(native.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.equal(leaf.cert.notAfter.getTime() - leaf.cert.notBefore.getTime(), HOUR + 40_000);
});

test('loadCertBundle round-trips, accepts SEC1 keys and refuses mismatched or garbage input', async () => {
  const ca = await createSelfSignedCa({ commonName: 'root.example' });
  const loaded = await loadCertBundle(ca.certPem, ca.keyPem);
  assert.equal(loaded.cert.subject, ca.cert.subject);
  assert.equal(loaded.certPem, ca.certPem);
  // A key loaded from disk must still sign.
  const leaf = await issueCertificate(loaded, { commonName: 'x.example' });
  assert.equal(new nodeCrypto.X509Certificate(leaf.certPem).verify(new nodeCrypto.X509Certificate(ca.certPem).publicKey), true);

  const sec1 = nodeCrypto.createPrivateKey(ca.keyPem).export({ format: 'pem', type: 'sec1' }).toString();
  assert.match(sec1, /BEGIN EC PRIVATE KEY/);
  await loadCertBundle(ca.certPem, sec1);

  const other = await createSelfSignedCa({ commonName: 'other.example' });
  await assert.rejects(loadCertBundle(ca.certPem, other.keyPem), (e: unknown) => {
    assert.ok(e instanceof KeyMismatchError);
    assert.match(e.message, /does not match the certificate "CN=root\.example"/);
    return true;
  });
  await assert.rejects(loadCertBundle('hello', ca.keyPem), PemParseError);
  await assert.rejects(loadCertBundle('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', ca.keyPem), PemParseError);
  await assert.rejects(loadCertBundle(ca.certPem, 'not a key'), PemParseError);

  const rsa = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  await assert.rejects(loadCertBundle(ca.certPem, rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()), UnsupportedKeyError);
});

test('parseCertificates returns every block in order', async () => {
  const a = await createSelfSignedCa({ commonName: 'a.example' });
  const b = await createSelfSignedCa({ commonName: 'b.example' });
  const certs = parseCertificates(`# bundle\n${a.certPem}${b.certPem}`);
  assert.deepEqual(
    certs.map((c) => c.subject),
    ['CN=a.example', 'CN=b.example'],
  );
});

test('issuing refuses a non-CA issuer and an expired issuer', async () => {
  const root = await createSelfSignedCa({ commonName: 'root.example' });
  const leaf = await issueCertificate(root, { commonName: 'leaf.example' });
  await assert.rejects(issueCertificate(leaf, { commonName: 'x' }), (e: unknown) => {
    assert.ok(e instanceof IssuerNotCaError);
    assert.match(e.message, /"CN=leaf\.example" is not a CA/);
    return true;
  });
  const expired = await createSelfSignedCa({ commonName: 'old.example', notBefore: new Date(Date.now() - 10 * DAY), lifetimeMs: DAY });
  await assert.rejects(issueCertificate(expired, { commonName: 'x' }), IssuerExpiredError);
  // Back-dating the issuance into the issuer's lifetime is allowed (tests build expired leaves so).
  const old = await issueCertificate(expired, { commonName: 'x', notBefore: new Date(Date.now() - 9.5 * DAY), lifetimeMs: HOUR });
  assert.ok(old.cert.notAfter.getTime() < Date.now());
});

test('exportPublicKeyPem writes an SPKI key that verifies signatures of the private half', async () => {
  const keys = await generateKeyPair();
  const pem = await exportPublicKeyPem(keys.publicKey);
  assert.match(pem, /^-----BEGIN PUBLIC KEY-----\n/);
  const data = new TextEncoder().encode('token');
  const sig = await globalThis.crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, data);
  const pub = nodeCrypto.createPublicKey(pem);
  assert.equal(nodeCrypto.verify('sha256', data, { key: pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig)), true);
});

test('Node tls accepts certPem/keyPem directly in a TLS 1.3 mutual handshake', async () => {
  const root = await createSelfSignedCa({ commonName: 'root.example' });
  const server = await issueCertificate(root, { commonName: 'server.example', dnsNames: ['server.example'] });
  const client = await issueCertificate(root, { commonName: 'client.example', dnsNames: ['client.example'] });
  const result = await tlsHandshake({
    ca: root.certPem,
    server: { cert: server.certPem, key: server.keyPem },
    client: { cert: client.certPem, key: client.keyPem },
    servername: 'server.example',
  });
  assert.equal(result.protocol, 'TLSv1.3');
  assert.equal(result.serverSawClient.subjectaltname, 'DNS:client.example');
  assert.equal(result.clientSawServer.subjectaltname, 'DNS:server.example');
});
