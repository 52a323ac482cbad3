// The destination service's configuration, parsed once from flags (command.ts) and frozen.
export interface DestinationConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly adminListen: { readonly host: string; readonly port: number };
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly controlNamespace: string;
  /** Where the cluster credential Secrets (label multicluster.linkerd.io/cluster-name) are read. */
  readonly credentialsNamespace: string;
  readonly clusterDomain: string;
  readonly identityTrustDomain: string;
  readonly maxStreamBufferBytes: number;
  readonly firstListWaitMs: number;
  readonly localListWaitMs: number;
  readonly shutdownGraceMs: number;
}
