// Signing proxy CSRs under the rules of Linkerd's identity service (`Certify`): the CSR may
// claim exactly one name, the identity the caller was authenticated as, and nothing else,
// because peers authorize on the leaf's first DNS SAN.
import { parseIdentityName } from './identity-name.ts';
import {
  type CertBundle,
  type CryptoKey,
  type CryptoKeyPair,
  generateKeyPair,
  importP256PublicKey,
  PkiError,
  signCertificate,
  UnsupportedKeyError,
  x509,
} from './x509.ts';

export interface SignCsrOptions {
  /** The identity the requester was authenticated as. */
  identity: string;
  lifetimeMs: number;
  /** Clock skew allowance, added on both sides of the validity window. */
  skewMs: number;
  now?: Date;
  /** The issuer's own chain (beyond the issuer itself): returned as intermediates and clamps expiry. */
  chain?: x509.X509Certificate[];
}

export interface SignedLeaf {
  cert: x509.X509Certificate;
  /** What `Certify` returns: DER, leaf first, then the issuer and its chain. */
  leafDer: Uint8Array;
  intermediatesDer: Uint8Array[];
  validUntil: Date;
  /** Leaf then intermediates, as a PEM bundle (tls.crt). */
  chainPem: string;
}

/** The CSR was rejected; subclasses say whether it was unreadable or claimed the wrong name. */
export class CsrRejectedError extends PkiError {
  override readonly name: string = 'CsrRejectedError';
}

/** Not a parseable PKCS#10 request, a bad self-signature, or not a P-256 key (gRPC InvalidArgument). */
export class CsrMalformedError extends CsrRejectedError {
  override readonly name = 'CsrMalformedError';
}

/** A well-formed CSR asking for names other than the authenticated identity (gRPC FailedPrecondition). */
export class CsrIdentityMismatchError extends CsrRejectedError {
  override readonly name = 'CsrIdentityMismatchError';
}

const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const SAN_KIND: Record<string, string> = { email: 'an email', ip: 'an IP', url: 'a URI' };

/** The proxy's bootstrap: a fresh P-256 key and a CSR with CN = identity and DNS SAN = [identity]. */
export async function createCsr(identity: string): Promise<{ csrDer: Uint8Array; keys: CryptoKeyPair }> {
  parseIdentityName(identity);
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [identity] }],
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: identity }])],
  });
  return { csrDer: new Uint8Array(csr.rawData), keys };
}

/**
 * The checks of `signCsr` without signing, so a service can refuse a bad CSR before it
 * authenticates the caller. Returns the CSR's public key.
 */
export async function checkCsr(csrDer: Uint8Array, identity: string): Promise<CryptoKey> {
  parseIdentityName(identity);
  const csr = parseCsr(csrDer);
  const publicKey = await csrPublicKey(csr);
  checkNames(csr, identity);
  return publicKey;
}

export async function signCsr(csrDer: Uint8Array, issuer: CertBundle, opts: SignCsrOptions): Promise<SignedLeaf> {
  const publicKey = await checkCsr(csrDer, opts.identity);

  const chain = opts.chain ?? [];
  const chainExpiry = chain.length === 0 ? undefined : new Date(Math.min(...chain.map((c) => c.notAfter.getTime())));
  const cert = await signCertificate(issuer, publicKey, {
    commonName: opts.identity,
    dnsNames: [opts.identity],
    usages: ['serverAuth', 'clientAuth'],
    lifetimeMs: opts.lifetimeMs,
    skewMs: opts.skewMs,
    notBefore: opts.now ?? new Date(),
    ...(chainExpiry === undefined ? {} : { notAfterLimit: chainExpiry }),
  });
  const intermediates = [issuer.cert, ...chain];
  return {
    cert,
    leafDer: new Uint8Array(cert.rawData),
    intermediatesDer: intermediates.map((c) => new Uint8Array(c.rawData)),
    validUntil: cert.notAfter,
    chainPem: [cert, ...intermediates].map((c) => c.toString('pem') + '\n').join(''),
  };
}

function parseCsr(der: Uint8Array): x509.Pkcs10CertificateRequest {
  try {
    return new x509.Pkcs10CertificateRequest(der);
  } catch (err) {
    throw new CsrMalformedError('the certificate signing request is not a DER-encoded PKCS#10 request', {
      cause: err,
    });
  }
}

async function csrPublicKey(csr: x509.Pkcs10CertificateRequest): Promise<CryptoKey> {
  let valid: boolean;
  try {
    valid = await csr.verify();
  } catch (err) {
    throw new CsrMalformedError('the CSR signature could not be checked (unsupported algorithm)', { cause: err });
  }
  if (!valid) {
    throw new CsrMalformedError('the CSR signature does not verify with its own public key: regenerate the CSR');
  }
  try {
    return await importP256PublicKey(new Uint8Array(csr.publicKey.rawData));
  } catch (err) {
    if (err instanceof UnsupportedKeyError) {
      throw new CsrMalformedError(`the CSR key is not usable: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

function checkNames(csr: x509.Pkcs10CertificateRequest, identity: string): void {
  const mismatch = (why: string): never => {
    throw new CsrIdentityMismatchError(
      `CSR rejected for identity "${identity}": ${why}; a proxy CSR must name only its own identity ` +
        '(CN empty or the identity, exactly one DNS SAN equal to it)',
    );
  };
  let sanExtensions: x509.SubjectAlternativeNameExtension[];
  try {
    sanExtensions = csr.extensions.filter((e) => e instanceof x509.SubjectAlternativeNameExtension);
  } catch (err) {
    // The parser refuses name forms it cannot represent (otherName, X.400, EDI party).
    throw new CsrMalformedError('the CSR extensions are not readable (unsupported subjectAltName form?)', {
      cause: err,
    });
  }
  if (sanExtensions.length > 1) mismatch('it has more than one subjectAltName extension');
  const names = sanExtensions[0]?.names.items ?? [];
  const dns = names.filter((n) => n.type === 'dns').map((n) => n.value);
  const other = names.filter((n) => n.type !== 'dns');
  if (dns.length !== 1) mismatch(`it has ${dns.length} DNS SANs, expected exactly one`);
  if (dns[0] !== identity) mismatch(`its DNS SAN "${dns[0] ?? ''}" does not match`);
  const firstOther = other[0];
  if (firstOther !== undefined) {
    const kind = SAN_KIND[firstOther.type] ?? `a ${firstOther.type}`;
    mismatch(`it has ${kind} SAN "${firstOther.value}", which the identity service cannot validate`);
  }
  for (const cn of csr.subjectName.getField('CN')) {
    if (cn !== '' && cn !== identity) mismatch(`its CommonName "${cn}" does not match`);
  }
}
