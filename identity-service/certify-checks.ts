// The pure checks of a Certify request: required fields, whether the requested identity is one
// this identity service may issue, and whether the token's ServiceAccount is that identity.
// The CSR checks are signCsr's own (identity/csr-signing.ts); the token check needs the API server.
import { formatIdentityName, type IdentityParts, parseIdentityName } from '../identity/identity-name.ts';
import { ForeignIdentityError, MissingFieldError, TokenIdentityMismatchError } from './refusals.ts';

/** Which identities this service issues: `*.*.serviceaccount.identity.<controlNamespace>.<trustDomain>`. */
export interface IdentityScope {
  controlNamespace: string;
  trustDomain: string;
}

/** A CertifyRequest as decoded from the wire: proto3 leaves absent fields empty. */
export interface RawCertifyRequest {
  identity: string;
  token: Uint8Array;
  certificateSigningRequest: Uint8Array;
}

/** A request whose fields are all present. */
export interface CertifyInput {
  identity: string;
  token: string;
  csrDer: Uint8Array;
}

export function checkRequestFields(req: RawCertifyRequest): CertifyInput {
  if (req.identity === '') {
    throw new MissingFieldError(
      "the request has no identity: set CertifyRequest.identity to the proxy's identity name (LINKERD2_PROXY_IDENTITY_LOCAL_NAME)",
    );
  }
  // A JWT has no whitespace; a trailing newline from `echo` or a hand-made token file is not part of it.
  const token = Buffer.from(req.token).toString('utf8').trim();
  if (token === '') {
    throw new MissingFieldError(
      "the request has no token: send the pod's projected ServiceAccount token with audience identity.l5d.io " +
        '(the file named by LINKERD2_PROXY_IDENTITY_TOKEN_FILE)',
    );
  }
  if (req.certificateSigningRequest.length === 0) {
    throw new MissingFieldError('the request has no certificate_signing_request: send the DER-encoded PKCS#10 CSR the proxy generated (csr.der)');
  }
  return { identity: req.identity, token, csrDer: req.certificateSigningRequest };
}

/** Parses the requested identity and refuses one outside this service's trust domain or control plane. */
export function checkRequestedIdentity(identity: string, scope: IdentityScope): IdentityParts {
  const parts = parseIdentityName(identity);
  if (parts.trustDomain !== scope.trustDomain) {
    throw new ForeignIdentityError(
      `identity "${identity}" is in trust domain "${parts.trustDomain}", but this identity service issues for "${scope.trustDomain}": ` +
        `configure the proxy with trust domain "${scope.trustDomain}", or send the request to that trust domain's identity service`,
    );
  }
  if (parts.controlNamespace !== scope.controlNamespace) {
    throw new ForeignIdentityError(
      `identity "${identity}" belongs to the control plane in namespace "${parts.controlNamespace}", but this identity service ` +
        `serves "${scope.controlNamespace}": request ${parts.serviceAccount}.${parts.namespace}.serviceaccount.identity.` +
        `${scope.controlNamespace}.${scope.trustDomain}, or send the request to that control plane's identity service`,
    );
  }
  return parts;
}

/** The identity of a TokenReview username `system:serviceaccount:<ns>:<sa>`, or undefined for any other user. */
export function identityForUsername(username: string, scope: IdentityScope): string | undefined {
  const fields = username.split(':');
  if (fields.length !== 4 || fields[0] !== 'system' || fields[1] !== 'serviceaccount') return undefined;
  const [, , namespace = '', serviceAccount = ''] = fields;
  try {
    return formatIdentityName({ serviceAccount, namespace, ...scope });
  } catch {
    // Kubernetes names always form valid labels; anything else is not a ServiceAccount we can name.
    return undefined;
  }
}

/** Refuses a token whose user is not the ServiceAccount the requested identity names. */
export function checkTokenIdentity(username: string, requested: string, scope: IdentityScope): void {
  const actual = identityForUsername(username, scope);
  if (actual === undefined) {
    throw new TokenIdentityMismatchError(
      `token is for "${username}", which is not a ServiceAccount (system:serviceaccount:<namespace>:<name>), CSR asks for ${requested}: ` +
        "send the pod's own ServiceAccount token",
    );
  }
  if (actual !== requested) {
    const [sa, ns] = requested.split('.');
    throw new TokenIdentityMismatchError(
      `token is for ${actual} (${username}), CSR asks for ${requested}: ` +
        `run the workload as ServiceAccount "${sa ?? ''}" in namespace "${ns ?? ''}", or request the identity of the token's ServiceAccount`,
    );
  }
}
