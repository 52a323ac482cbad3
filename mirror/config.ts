// The controller's configuration, parsed once from flags at the entrypoint and frozen.
export interface MirrorConfig {
  readonly linkName: string;
  readonly namespace: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly enableNamespaceCreation: boolean;
  readonly enableHeadlessServices: boolean;
  readonly keepMirrorsOnUnlink: boolean;
  readonly endpointRefreshPeriodMs: number;
  readonly workers: number;
  readonly metricsAddr: { host: string; port: number };
  readonly identity: string;
  readonly fieldManager: string;
  /** Deadline for the final Link status write and the lease release on SIGTERM or a lost lease. */
  readonly shutdownTimeoutMs: number;
  readonly lease: { readonly durationMs: number; readonly renewMs: number; readonly retryMs: number };
}
