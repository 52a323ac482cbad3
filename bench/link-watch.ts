// Watches the Link object while the controller converges: how many times its status is
// rewritten and how large it gets. The controller batches per-mirror conditions into the
// Link's status, so each write carries every mirror so far; this shows what that costs.
import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { customObjectPage, Reflector } from '../kube/reflector.ts';
import { LINK_GROUP, LINK_PLURAL, LINK_STORAGE_VERSION } from '../model/link-types.ts';

export interface LinkWrites {
  /** Updates of the Link seen since `reset`. */
  updates: number;
  /** Bytes of the Link objects in those updates (their JSON). */
  mb: number;
  /** Size and mirror count of the last version seen. */
  lastKb: number;
  mirrorServices: number;
}

type LinkView = KubernetesObject & { status?: { mirrorServices?: unknown[] } };

export class LinkWatch {
  readonly #reflector: Reflector<LinkView>;
  #updates = 0;
  #bytes = 0;
  #last?: LinkView;

  constructor(kubeConfig: KubeConfig, namespace: string, name: string) {
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.#reflector = new Reflector<LinkView>({
      kubeConfig,
      path: `/apis/${LINK_GROUP}/${LINK_STORAGE_VERSION}/namespaces/${namespace}/${LINK_PLURAL}`,
      fieldSelector: `metadata.name=${name}`,
      list: (q) => customObjectPage<LinkView>(custom, { group: LINK_GROUP, version: LINK_STORAGE_VERSION, namespace, plural: LINK_PLURAL }, q),
      onEvent: (e) => {
        if (e.type === 'added' || e.type === 'updated') {
          this.#updates++;
          this.#bytes += JSON.stringify(e.object).length;
          this.#last = e.object;
        }
      },
    });
  }

  async start(): Promise<void> {
    this.#reflector.start();
    await this.#reflector.listed();
  }

  stop(): Promise<void> {
    return this.#reflector.stop();
  }

  reset(): void {
    this.#updates = 0;
    this.#bytes = 0;
  }

  read(): LinkWrites {
    const last = this.#last;
    return {
      updates: this.#updates,
      mb: Math.round((this.#bytes / 2 ** 20) * 10) / 10,
      lastKb: last ? Math.round(JSON.stringify(last).length / 1024) : 0,
      mirrorServices: last?.status?.mirrorServices?.length ?? 0,
    };
  }
}
