// Kubernetes Events about an object, so that `kubectl describe` shows why something was
// skipped. Repeats of the same reason and message within a minute are folded into one.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { apiErrorMessage } from './client.ts';
import type { Logger } from '../log/logger.ts';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

const FOLD_MS = 60_000;

export class EventRecorder {
  readonly #core: CoreV1Api;
  readonly #recent = new Map<string, number>();

  constructor(
    kubeConfig: KubeConfig,
    private readonly component: string,
    private readonly log: Logger,
  ) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
  }

  async record(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const key = `${obj.namespace}/${obj.name}/${reason}/${message}`;
    const last = this.#recent.get(key);
    if (last !== undefined && Date.now() - last < FOLD_MS) return;
    this.#recent.set(key, Date.now());
    const now = new Date();
    try {
      await this.#core.createNamespacedEvent({
        namespace: obj.namespace,
        body: {
          metadata: { generateName: `${obj.name}.`, namespace: obj.namespace },
          involvedObject: obj,
          type,
          reason,
          message,
          source: { component: this.component },
          reportingComponent: this.component,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (err) {
      // Events are advisory; failing to write one must not fail the reconcile.
      this.log.warn('could not record event', { object: `${obj.namespace}/${obj.name}`, reason, error: apiErrorMessage(err) });
    }
  }
}
