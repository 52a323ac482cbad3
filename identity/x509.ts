// Generic X.509 layer: ECDSA P-256 keys, SHA-256 signatures, PEM in and out.
// Linkerd uses P-256 everywhere and its proxy only offers a certificate to peers that
// list ecdsa_secp256r1_sha256, so nothing here supports any other key type.
import 'reflect-metadata';
import * as nodeCrypto from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Without the DOM lib these are not global types, and @peculiar/x509's declarations would
// silently degrade to `any`; naming Node's WebCrypto types keeps the boundary typed.
export type CryptoKey = nodeCrypto.webcrypto.CryptoKey;
export type CryptoKeyPair = nodeCrypto.webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(globalThis.crypto);

/**
 * The configured @peculiar/x509 namespace. Take runtime values (extension classes, parsers)
 * from here: importing the package directly before this module fails to load (see the shim).
 */
export { x509 };

const subtle = globalThis.crypto.subtle;
const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DEFAULT_CA_LIFETIME_MS = 365 * 24 * 3600 * 1000;
const DEFAULT_LEAF_LIFETIME_MS = 24 * 3600 * 1000;

export interface CertBundle {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  certPem: string;
  /** PKCS#8 PEM ("PRIVATE KEY"). */
  keyPem: string;
}

export type ExtendedUsage = 'serverAuth' | 'clientAuth';

export interface SelfSignedCaOptions {
  commonName: string;
  /** Default one year, like `linkerd install`'s generated trust anchor. */
  lifetimeMs?: number;
  /** Default now. */
  notBefore?: Date;
}

export interface IssueOptions {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  isCa?: boolean;
  /** Only for CAs; absent means unlimited. */
  pathLength?: number;
  /** Default for end entities: both (what Linkerd leaves need); for CAs: none. */
  usages?: ExtendedUsage[];
  /** Default 24h. */
  lifetimeMs?: number;
  /** Validity is widened by this much on both sides; default 0. */
  skewMs?: number;
  /** Issuance instant, before skew is applied; default now. */
  notBefore?: Date;
}

// === errors ===

/** Base of every PKI input problem, so callers can map them all to a usage error. */
export class PkiError extends Error {
  override readonly name: string = 'PkiError';
}

export class PemParseError extends PkiError {
  override readonly name = 'PemParseError';
}

export class UnsupportedKeyError extends PkiError {
  override readonly name = 'UnsupportedKeyError';
}

export class KeyMismatchError extends PkiError {
  override readonly name = 'KeyMismatchError';
}

export class IssuerNotCaError extends PkiError {
  override readonly name = 'IssuerNotCaError';
}

export class IssuerExpiredError extends PkiError {
  override readonly name = 'IssuerExpiredError';
}

// === keys ===

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return subtle.generateKey(EC_P256, true, ['sign', 'verify']);
}

/** SPKI "PUBLIC KEY" PEM, e.g. for a ServiceAccount token verification key. */
export async function exportPublicKeyPem(key: CryptoKey): Promise<string> {
  const spki = await subtle.exportKey('spki', key);
  return x509.PemConverter.encode(spki, 'PUBLIC KEY') + '\n';
}

/** PKCS#8 "PRIVATE KEY" PEM, the form Node's tls and kube components read directly. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = await subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n';
}

// === certificates ===

export async function createSelfSignedCa(opts: SelfSignedCaOptions): Promise<CertBundle> {
  const keys = await generateKeyPair();
  const notBefore = floorToSecond(opts.notBefore ?? new Date());
  const notAfter = floorToSecond(new Date(notBefore.getTime() + (opts.lifetimeMs ?? DEFAULT_CA_LIFETIME_MS)));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [opts.commonName] }],
    keys,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return toBundle(cert, keys);
}

export async function issueCertificate(issuer: CertBundle, opts: IssueOptions): Promise<CertBundle> {
  const keys = await generateKeyPair();
  const cert = await signCertificate(issuer, keys.publicKey, opts);
  return toBundle(cert, keys);
}

export interface SignOptions extends IssueOptions {
  /** Further cap on NotAfter, e.g. the earliest expiry of the issuer's own chain. */
  notAfterLimit?: Date;
}

/** Like issueCertificate, for a public key whose private half the caller keeps (a CSR's). */
export async function signCertificate(issuer: CertBundle, subjectPublicKey: CryptoKey, opts: SignOptions): Promise<x509.X509Certificate> {
  assertIsCa(issuer.cert);
  const issuerBc = issuer.cert.getExtension(x509.BasicConstraintsExtension);
  if (opts.isCa === true && issuerBc?.pathLength === 0) {
    throw new IssuerNotCaError(
      `CA "${issuer.cert.subject}" has pathlen 0, so it may only sign end-entity certificates: ` +
        'sign CA certificates with the trust anchor instead',
    );
  }
  const now = opts.notBefore ?? new Date();
  if (issuer.cert.notAfter.getTime() <= now.getTime()) {
    throw new IssuerExpiredError(
      `issuer certificate "${issuer.cert.subject}" expired at ${issuer.cert.notAfter.toISOString()}: ` +
        'create a new one and sign with that instead',
    );
  }
  const skew = opts.skewMs ?? 0;
  const notBefore = floorToSecond(new Date(now.getTime() - skew));
  // A certificate must never outlive the ones that vouch for it.
  const notAfter = new Date(
    Math.min(
      floorToSecond(new Date(now.getTime() + (opts.lifetimeMs ?? DEFAULT_LEAF_LIFETIME_MS) + skew)).getTime(),
      issuer.cert.notAfter.getTime(),
      opts.notAfterLimit?.getTime() ?? Infinity,
    ),
  );

  const extensions: x509.Extension[] = [];
  if (opts.isCa === true) {
    extensions.push(
      new x509.BasicConstraintsExtension(true, opts.pathLength, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    );
  } else {
    extensions.push(
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    );
  }
  const usages = opts.usages ?? (opts.isCa === true ? [] : (['serverAuth', 'clientAuth'] as const));
  if (usages.length > 0) {
    extensions.push(new x509.ExtendedKeyUsageExtension(usages.map((u) => x509.ExtendedKeyUsage[u])));
  }
  const altNames: x509.JsonGeneralNames = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
  extensions.push(
    await x509.SubjectKeyIdentifierExtension.create(subjectPublicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.cert.publicKey),
  );

  const subject: x509.JsonName = [{ CN: [opts.commonName] }];
  for (const o of opts.organizations ?? []) subject.push({ O: [o] });
  return x509.X509CertificateGenerator.create({
    subject,
    // Reuse the issuer's encoded name so chain building matches it byte for byte.
    issuer: issuer.cert.subjectName,
    publicKey: subjectPublicKey,
    signingKey: issuer.keys.privateKey,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
}

/**
 * Loads a certificate (the first CERTIFICATE block of `certPem`) and its private key
 * (PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY", as `step` writes), refusing a key that
 * is not P-256 or does not belong to the certificate.
 */
export async function loadCertBundle(certPem: string, keyPem: string): Promise<CertBundle> {
  const first = parseCertificates(certPem)[0];
  if (first === undefined) throw new PemParseError('no certificate found');
  const cert = first;
  const certKey = certificatePublicKey(cert);

  let privateKey: nodeCrypto.KeyObject;
  try {
    privateKey = nodeCrypto.createPrivateKey({ key: keyPem, format: 'pem' });
  } catch (err) {
    throw new PemParseError(
      'the private key is not a readable, unencrypted PEM key (expected "PRIVATE KEY" or "EC PRIVATE KEY"): ' +
        'pass the key file that was written together with the certificate',
      { cause: err },
    );
  }
  assertP256(privateKey, 'the private key');
  if (!nodeCrypto.createPublicKey(privateKey).equals(certKey)) {
    throw new KeyMismatchError(
      `the private key does not match the certificate "${cert.subject}": ` + 'pass the key file that was generated together with that certificate',
    );
  }

  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const spki = certKey.export({ format: 'der', type: 'spki' });
  const keys: CryptoKeyPair = {
    privateKey: await subtle.importKey('pkcs8', pkcs8, EC_P256, true, ['sign']),
    publicKey: await subtle.importKey('spki', spki, EC_P256, true, ['verify']),
  };
  return { cert, keys, certPem: cert.toString('pem') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/** Imports an SPKI public key, refusing anything but ECDSA P-256. */
export async function importP256PublicKey(spkiDer: Uint8Array): Promise<CryptoKey> {
  let key: nodeCrypto.KeyObject;
  try {
    key = nodeCrypto.createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  } catch (err) {
    throw new UnsupportedKeyError('the public key is not a readable SubjectPublicKeyInfo', { cause: err });
  }
  assertP256(key, 'the public key');
  return subtle.importKey('spki', spkiDer, EC_P256, true, ['verify']);
}

/** Every CERTIFICATE block in `pem`, in order; garbage is an error, not an empty list. */
export function parseCertificates(pem: string): x509.X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    throw new PemParseError('no PEM "CERTIFICATE" block found: pass a PEM-encoded X.509 certificate file');
  }
  return blocks.map((block, i) => {
    try {
      return new x509.X509Certificate(block);
    } catch (err) {
      throw new PemParseError(`certificate #${i + 1} in the PEM data is not a valid X.509 certificate`, { cause: err });
    }
  });
}

/** Whether `cert` is a CA: basicConstraints with cA set. */
export function isCa(cert: x509.X509Certificate): boolean {
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  return bc !== null && bc.ca;
}

function assertIsCa(cert: x509.X509Certificate): void {
  if (!isCa(cert)) {
    throw new IssuerNotCaError(
      `certificate "${cert.subject}" is not a CA (no basicConstraints CA:TRUE), so it cannot sign certificates: ` +
        'pass a trust anchor or identity issuer certificate instead',
    );
  }
}

function certificatePublicKey(cert: x509.X509Certificate): nodeCrypto.KeyObject {
  const key = nodeCrypto.createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' });
  assertP256(key, `the key of certificate "${cert.subject}"`);
  return key;
}

function assertP256(key: nodeCrypto.KeyObject, what: string): void {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    const got = key.asymmetricKeyType === 'ec' ? `EC ${curve ?? 'unknown curve'}` : String(key.asymmetricKeyType);
    throw new UnsupportedKeyError(`${what} is ${got}, but Linkerd needs ECDSA P-256: regenerate it as P-256`);
  }
}

async function toBundle(cert: x509.X509Certificate, keys: CryptoKeyPair): Promise<CertBundle> {
  return { cert, keys, certPem: cert.toString('pem') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

// X.509 times have whole seconds; rounding here keeps returned Dates equal to the encoded ones.
function floorToSecond(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}
