// The controller's configuration, parsed once from flags at the entrypoint and frozen.
import type { LabelSelector } from '../model/link-types.ts';

export interface MirrorConfig {
  /** The Link served; '' with --local-mirror, which serves none. */
  readonly linkName: string;
  /** Set with --local-mirror: federated members of the local cluster, not a Link's remote. */
  readonly localMirror?: { readonly federatedSelector: LabelSelector };
  readonly leaseName: string;
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
