// The three identity sources as one parsed choice, and the factory that builds the source.
// Shared by `multicluster gateway` and `multicluster outbound`.
import type { Logger } from '../log/logger.ts';
import type { IdentitySource } from './identity-source.ts';
import { FileIdentitySource } from './identity-source-files.ts';
import { issuerIdentitySource } from './identity-source-issuer.ts';
import { serviceIdentitySource } from './identity-source-service.ts';
import { GatewayError } from './errors.ts';

export type IdentityConfig =
  /** A mounted Secret: reloaded when the files change. */
  | { kind: 'files'; certFile: string; keyFile: string; trustAnchorsFile: string }
  /** Self-issued from a local issuer (demo, dev clusters). */
  | { kind: 'issuer'; issuerCertFile: string; issuerKeyFile: string; trustAnchorsFile: string; identity: string; lifetimeMs?: number }
  /** Certified by the identity service with a ServiceAccount token. */
  | { kind: 'service'; addr: string; tokenFile: string; trustAnchorsFile: string; identity: string; serverName?: string };

export class IdentityFlagsError extends GatewayError {
  override readonly name = 'IdentityFlagsError';
}

export interface IdentityFlags {
  cert?: string;
  key?: string;
  trustAnchors?: string;
  issuerCert?: string;
  issuerKey?: string;
  identity?: string;
  identityAddr?: string;
  identityTokenFile?: string;
  identityServerName?: string;
}

/** Exactly one source must be named completely; anything else is a flag error saying what is missing. */
export function parseIdentityFlags(f: IdentityFlags): IdentityConfig {
  const files = f.cert !== undefined || f.key !== undefined;
  const issuer = f.issuerCert !== undefined || f.issuerKey !== undefined;
  const service = f.identityAddr !== undefined || f.identityTokenFile !== undefined;
  const chosen = [files, issuer, service].filter(Boolean).length;
  if (chosen !== 1) {
    throw new IdentityFlagsError(
      'choose exactly one identity source: --cert/--key (files), --issuer-cert/--issuer-key with --identity (self-issued), ' +
        'or --identity-addr/--identity-token-file with --identity (identity service); each also needs --trust-anchors',
    );
  }
  if (f.trustAnchors === undefined) throw new IdentityFlagsError('missing --trust-anchors FILE: the PEM bundle every peer certificate must chain to');
  if (files) {
    if (f.cert === undefined || f.key === undefined) throw new IdentityFlagsError('--cert and --key go together: pass both');
    return { kind: 'files', certFile: f.cert, keyFile: f.key, trustAnchorsFile: f.trustAnchors };
  }
  if (f.identity === undefined)
    throw new IdentityFlagsError('missing --identity NAME, e.g. linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local');
  if (issuer) {
    if (f.issuerCert === undefined || f.issuerKey === undefined)
      throw new IdentityFlagsError('--issuer-cert and --issuer-key go together: pass both');
    return { kind: 'issuer', issuerCertFile: f.issuerCert, issuerKeyFile: f.issuerKey, trustAnchorsFile: f.trustAnchors, identity: f.identity };
  }
  if (f.identityAddr === undefined || f.identityTokenFile === undefined) {
    throw new IdentityFlagsError('--identity-addr and --identity-token-file go together: pass both');
  }
  return {
    kind: 'service',
    addr: f.identityAddr,
    tokenFile: f.identityTokenFile,
    trustAnchorsFile: f.trustAnchors,
    identity: f.identity,
    ...(f.identityServerName === undefined ? {} : { serverName: f.identityServerName }),
  };
}

export function createIdentitySource(c: IdentityConfig, log: Logger): IdentitySource {
  switch (c.kind) {
    case 'files':
      return new FileIdentitySource({ ...c, log });
    case 'issuer':
      return issuerIdentitySource({ ...c, log });
    case 'service':
      return serviceIdentitySource({ ...c, log });
    default:
      return assertNever(c);
  }
}

function assertNever(x: never): never {
  throw new Error(`unhandled identity source ${JSON.stringify(x)}`);
}
