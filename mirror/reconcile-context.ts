// What a reconciler is handed: the two clusters behind the small interface of local-api.ts,
// the Link's settings, the gateway's state, and where outcomes go (the Link status, the log,
// and follow-up queue items).
import type { Logger } from '../log/logger.ts';
import type { RemoteRef } from '../model/remote-service.ts';
import type { ExportSelectors } from '../model/remote-selector.ts';
import type { MirrorEvent } from './events.ts';
import type { ResolvedGateway } from './gateway-resolver.ts';
import type { LocalApi, RemoteView } from './local-api.ts';
import type { LinkStatusWriter } from './link-status.ts';
import type { MirrorMetrics } from './metrics.ts';
import type { GatewayState, MirrorSettings } from './mirror-objects.ts';
import type { Priority } from './work-queue.ts';

/** The parts of the Link status the reconcilers write. */
export type StatusSink = Pick<LinkStatusWriter, 'setMirror' | 'clearMirror' | 'mirrorCondition' | 'setLinkCondition'>;

export interface ReconcileContext {
  readonly local: LocalApi;
  readonly remote: RemoteView;
  readonly settings: MirrorSettings;
  readonly selectors: ExportSelectors;
  /** The Link names a gateway: gateway-mode exports are mirrored with gateway Endpoints. */
  readonly hasGateway: boolean;
  readonly enableHeadlessServices: boolean;
  readonly enableNamespaceCreation: boolean;
  readonly linkName: string;
  /** The controller's namespace, where the probe Endpoints live. */
  readonly namespace: string;
  readonly probePort?: number;
  readonly status: StatusSink;
  readonly metrics: MirrorMetrics;
  readonly log: Logger;
  /** `ns/<local name>` of a local Service in a mirror's way → the remote Service waiting for it. */
  readonly collisions: Map<string, RemoteRef>;
  gateway(): GatewayState;
  setGatewayAddresses(addresses: string[]): void;
  /** Where the remote gateway is now (its live Service, else the Link's addresses). */
  resolveGateway(): Promise<ResolvedGateway>;
  /** Target cluster names of every Link, oldest first: the oldest member supplies federated metadata. */
  linkAges(): Promise<string[]>;
  /** Queues a follow-up event. */
  enqueue(e: MirrorEvent, priority?: Priority): void;
}
