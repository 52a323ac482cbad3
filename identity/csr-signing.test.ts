import assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CsrIdentityMismatchError, CsrMalformedError, createCsr, signCsr } from './csr-signing.ts';
import { InvalidIdentityNameError } from './identity-name.ts';
import { createIdentityIssuer } from './issuer.ts';
import { assertOpensslVerifies, openssl } from './openssl-test-util.ts';
import { createTrustAnchor } from './trust-anchor.ts';
import { createSelfSignedCa, type CryptoKeyPair, generateKeyPair, IssuerExpiredError, IssuerNotCaError, issueCertificate, x509 } from './x509.ts';

const ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const RULES = { identity: ID, lifetimeMs: DAY, skewMs: 20_000 };

const dir = mkdtempSync(join(tmpdir(), 'csr-signing-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const anchor = await createTrustAnchor();
const issuer = await createIdentityIssuer(anchor);

async function customCsr(opts: { cn?: string[]; sans?: x509.JsonGeneralNames; keys?: CryptoKeyPair; hash?: string } = {}): Promise<Uint8Array> {
  const keys = opts.keys ?? (await generateKeyPair());
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: (opts.cn ?? [ID]).map((cn) => ({ CN: [cn] })),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: opts.hash ?? 'SHA-256' },
    extensions: opts.sans === undefined ? [] : [new x509.SubjectAlternativeNameExtension(opts.sans)],
  });
  return new Uint8Array(csr.rawData);
}

test('createCsr produces the proxy bootstrap CSR, which openssl verifies', async () => {
  const { csrDer } = await createCsr(ID);
  const path = join(dir, 'csr.der');
  writeFileSync(path, csrDer);
  const r = openssl(['req', '-inform', 'DER', '-in', path, '-verify', '-noout', '-text']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Subject: CN ?= ?${ID.replaceAll('.', '\\.')}`));
  assert.match(r.stdout, new RegExp(`DNS:${ID.replaceAll('.', '\\.')}\\s*$`, 'm'));
  await assert.rejects(createCsr('Not An Identity'), InvalidIdentityNameError);
});

test('signs a good CSR as the identity service does', async () => {
  const now = new Date('2030-06-01T12:00:00Z');
  const a = await createTrustAnchor({ now: new Date('2030-01-01T00:00:00Z') });
  const i = await createIdentityIssuer(a, { now: new Date('2030-01-01T00:00:00Z') });
  const { csrDer, keys } = await createCsr(ID);
  const signed = await signCsr(csrDer, i, { ...RULES, now });

  assert.equal(signed.cert.subject, `CN=${ID}`);
  assert.equal(signed.cert.notBefore.toISOString(), '2030-06-01T11:59:40.000Z');
  assert.equal(signed.cert.notAfter.toISOString(), '2030-06-02T12:00:20.000Z');
  assert.equal(signed.validUntil.getTime(), signed.cert.notAfter.getTime());
  assert.deepEqual(signed.intermediatesDer, [new Uint8Array(i.cert.rawData)]);
  // The certified key is the CSR's, so the proxy's private key matches the leaf.
  const certKey = nodeCrypto.createPublicKey({ key: Buffer.from(signed.cert.publicKey.rawData), format: 'der', type: 'spki' });
  const spki = Buffer.from(await globalThis.crypto.subtle.exportKey('spki', keys.publicKey));
  assert.ok(certKey.equals(nodeCrypto.createPublicKey({ key: spki, format: 'der', type: 'spki' })));

  writeFileSync(join(dir, 'a.crt'), a.certPem);
  writeFileSync(join(dir, 'i.crt'), i.certPem);
  writeFileSync(join(dir, 'l.crt'), signed.chainPem);
  assertOpensslVerifies(dir, 'a.crt', 'i.crt', 'l.crt', ['-attime', String(now.getTime() / 1000), '-purpose', 'sslclient']);
});

test('accepts an empty CN and CSRs made by openssl', async () => {
  await signCsr(await customCsr({ cn: [], sans: [{ type: 'dns', value: ID }] }), issuer, RULES);
  const key = join(dir, 'ossl.key');
  const csr = join(dir, 'ossl.der');
  assert.equal(openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]).status, 0);
  for (const subj of ['/', `/CN=${ID}`]) {
    const r = openssl(['req', '-new', '-key', key, '-subj', subj, '-addext', `subjectAltName=DNS:${ID}`, '-outform', 'DER', '-out', csr]);
    assert.equal(r.status, 0, r.stderr);
    const signed = await signCsr(new Uint8Array(readFileSync(csr)), issuer, RULES);
    assert.equal(signed.cert.subject, `CN=${ID}`);
  }
});

test('refuses CSRs that claim anything but the requested identity', async () => {
  const cases: Array<[string, Promise<Uint8Array>, RegExp]> = [
    ['mismatched SAN', customCsr({ sans: [{ type: 'dns', value: ID.replace('web', 'db') }] }), /DNS SAN "db\.emojivoto.*" does not match/],
    [
      'extra IP SAN',
      customCsr({
        sans: [
          { type: 'dns', value: ID },
          { type: 'ip', value: '10.0.0.1' },
        ],
      }),
      /an IP SAN "10\.0\.0\.1"/,
    ],
    ['mismatched CN', customCsr({ cn: ['admin'], sans: [{ type: 'dns', value: ID }] }), /CommonName "admin" does not match/],
    ['second CN', customCsr({ cn: [ID, 'admin'], sans: [{ type: 'dns', value: ID }] }), /CommonName "admin"/],
    ['no SAN', customCsr({}), /has 0 DNS SANs, expected exactly one/],
    [
      'two DNS SANs',
      customCsr({
        sans: [
          { type: 'dns', value: ID },
          { type: 'dns', value: 'x.example' },
        ],
      }),
      /has 2 DNS SANs/,
    ],
    [
      'email SAN',
      customCsr({
        sans: [
          { type: 'dns', value: ID },
          { type: 'email', value: 'a@b.c' },
        ],
      }),
      /an email SAN/,
    ],
    [
      'URI SAN',
      customCsr({
        sans: [
          { type: 'dns', value: ID },
          { type: 'url', value: 'spiffe://x/y' },
        ],
      }),
      /a URI SAN/,
    ],
  ];
  for (const [label, csr, why] of cases) {
    await assert.rejects(signCsr(await csr, issuer, RULES), (e: unknown) => {
      assert.ok(e instanceof CsrIdentityMismatchError, label);
      assert.match(e.message, why, label);
      assert.match(e.message, new RegExp(`identity "${ID.replaceAll('.', '\\.')}"`), label);
      return true;
    });
  }
});

test('refuses malformed CSRs, foreign keys and invalid identities', async () => {
  const good = await customCsr({ sans: [{ type: 'dns', value: ID }] });
  const tampered = good.slice();
  tampered[tampered.length - 5] = (tampered[tampered.length - 5] ?? 0) ^ 0xff;
  await assert.rejects(signCsr(tampered, issuer, RULES), CsrMalformedError);
  await assert.rejects(signCsr(new TextEncoder().encode('garbage'), issuer, RULES), /not a DER-encoded PKCS#10/);

  const p384 = await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify']);
  const csr384 = await customCsr({ keys: p384, hash: 'SHA-384', sans: [{ type: 'dns', value: ID }] });
  await assert.rejects(signCsr(csr384, issuer, RULES), (e: unknown) => {
    assert.ok(e instanceof CsrMalformedError);
    assert.match(e.message, /EC secp384r1, but Linkerd needs ECDSA P-256/);
    return true;
  });

  await assert.rejects(signCsr(good, issuer, { ...RULES, identity: 'web.emojivoto' }), InvalidIdentityNameError);
});

test('refuses to sign with a non-CA or expired issuer, and clamps to the chain', async () => {
  const csr = (await createCsr(ID)).csrDer;
  const leaf = await issueCertificate(issuer, { commonName: 'not-a-ca' });
  await assert.rejects(signCsr(csr, leaf, RULES), IssuerNotCaError);

  const oldAnchor = await createSelfSignedCa({ commonName: 'old', notBefore: new Date(Date.now() - 10 * DAY), lifetimeMs: 5 * DAY });
  const oldIssuer = await issueCertificate(oldAnchor, { commonName: 'old-issuer', isCa: true, notBefore: new Date(Date.now() - 9 * DAY) });
  await assert.rejects(signCsr(csr, oldIssuer, RULES), IssuerExpiredError);

  const soon = await createSelfSignedCa({ commonName: 'soon', lifetimeMs: 2 * HOUR });
  const signed = await signCsr(csr, issuer, { ...RULES, chain: [soon.cert] });
  assert.equal(signed.cert.notAfter.getTime(), soon.cert.notAfter.getTime());
  assert.equal(signed.intermediatesDer.length, 2);
});
