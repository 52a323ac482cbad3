// The gateway's typed configuration, built once by command.ts from flags.
import type { GatewayLimits } from './context.ts';
import type { IdentityConfig } from './identity-config.ts';

export interface ListenAddr {
  host: string;
  port: number;
}

export interface GatewayConfig {
  listen: ListenAddr;
  adminListen: ListenAddr;
  kubeconfig?: string;
  context?: string;
  identity: IdentityConfig;
  clusterDomain: string;
  policyFile?: string;
  limits: GatewayLimits & {
    maxConnections: number;
    handshakeTimeoutMs: number;
  };
  /** On SIGTERM: how long in-flight requests may take before connections are cut. */
  drainTimeoutMs: number;
}
