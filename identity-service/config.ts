// The identity service's configuration, parsed once from flags by command.ts and frozen.
import type { LogLevel } from '../log/logger.ts';
import type { IdentityScope } from './certify-checks.ts';
import type { IssuerFiles } from './issuer-watcher.ts';

export interface ListenAddr {
  host: string;
  port: number;
}

export interface IdentityServiceConfig {
  /** Certify (gRPC over TLS). */
  listen: ListenAddr;
  /** /metrics, /ready, /live. */
  adminListen: ListenAddr;
  /** Both absent: the in-cluster ServiceAccount. */
  kubeconfig?: string;
  context?: string;
  issuer: IssuerFiles;
  trustAnchorsFile: string;
  scope: IdentityScope;
  /** `identity.<ns>.serviceaccount.identity.<ns>.<trustDomain>`: the serving certificate's one DNS SAN. */
  serviceName: string;
  issuanceLifetimeMs: number;
  clockSkewAllowanceMs: number;
  /** How long calls in flight may take to finish at shutdown. */
  shutdownGraceMs: number;
  logLevel: LogLevel;
}
