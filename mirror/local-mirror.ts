// `mirror --local-mirror`: the local half of federated Services. Upstream runs its service
// mirror against a synthetic Link (cluster name '', only the federated selector) whose "remote"
// is the local cluster itself; this runs the same ClusterWatcher that way. A local Service
// labelled as a federated member then puts `local-discovery=<svc>` on `<svc>-federated`, and the
// destination service merges its endpoints with the remote members'.
import type { KubeConfig } from '@kubernetes/client-node';
import { EventRecorder } from '../kube/event-recorder.ts';
import type { Logger } from '../log/logger.ts';
import type { LabelSelector } from '../model/link-types.ts';
import { LINK_GROUP, LINK_KIND, LINK_STORAGE_VERSION } from '../model/link-types.ts';
import { Defaults } from '../model/linkerd-names.ts';
import { ClusterWatcher } from './cluster-watcher.ts';
import { LOCAL_CLUSTER } from './federated-reconciler.ts';
import type { MirrorMetrics } from './metrics.ts';
import type { StatusSink } from './reconcile-context.ts';

export interface LocalMirrorOptions {
  namespace: string;
  federatedSelector: LabelSelector;
  workers: number;
  fieldManager: string;
}

/** There is no Link to report to: outcomes go to the log and to Events only. */
const NO_LINK_STATUS: StatusSink = {
  setMirror: () => undefined,
  clearMirror: () => undefined,
  mirrorCondition: () => undefined,
  setLinkCondition: () => undefined,
};

export class LocalMirror {
  readonly #watcher: ClusterWatcher;

  constructor(kc: KubeConfig, o: LocalMirrorOptions, metrics: MirrorMetrics, log: Logger) {
    this.#watcher = new ClusterWatcher({
      // Events about members name this synthetic Link, as upstream's local mirror does.
      link: {
        apiVersion: `${LINK_GROUP}/${LINK_STORAGE_VERSION}`,
        kind: LINK_KIND,
        metadata: { name: 'local', namespace: o.namespace },
        spec: { targetClusterName: LOCAL_CLUSTER },
      },
      namespace: o.namespace,
      localKubeConfig: kc,
      remoteKubeConfig: kc,
      settings: {
        clusterName: LOCAL_CLUSTER,
        clusterDomain: Defaults.clusterDomain,
        gatewayIdentity: '',
        gatewayPort: Defaults.gatewayPort,
        excludedLabels: [],
        excludedAnnotations: [],
      },
      selectors: { federated: o.federatedSelector },
      gatewayAddresses: [],
      enableNamespaceCreation: false,
      enableHeadlessServices: false,
      workers: o.workers,
      fieldManager: o.fieldManager,
      metrics,
      status: NO_LINK_STATUS,
      events: new EventRecorder(kc, 'linkerd-local-service-mirror', log),
      log,
      gatewayHealth: () => 'unknown',
      // The local member is always the oldest: no Link ages are needed.
      linkAges: () => Promise.resolve([]),
      onGatewayAddresses: () => undefined,
    });
  }

  start(): Promise<void> {
    return this.#watcher.start();
  }

  get ready(): boolean {
    return this.#watcher.synced;
  }

  stop(): Promise<void> {
    return this.#watcher.stop();
  }
}
