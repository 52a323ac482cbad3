// A small LoadBalancer controller: there is no cloud here, so a LoadBalancer Service gets
// the address of one of its ready endpoints that the other cluster can reach (a pod in the
// gateway range when there is one). That is how the gateway gets its external address.
import { CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1Service } from '@kubernetes/client-node';
import { mergePatch } from '../kube/client.ts';
import { errorMessage, type Logger } from '../log/logger.ts';
import type { ClusterAddressing } from './topology.ts';

const POLL_MS = 300;

export class LoadBalancerController {
  readonly #core: CoreV1Api;
  readonly #discovery: DiscoveryV1Api;
  #timer?: NodeJS.Timeout;
  #stopped = false;
  #running?: Promise<void>;

  constructor(
    readonly cluster: ClusterAddressing,
    kubeConfig: KubeConfig,
    private readonly log: Logger,
  ) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
  }

  start(): void {
    const tick = async () => {
      if (this.#stopped) return;
      this.#running = this.syncOnce().catch((err: unknown) => {
        this.log.debug('load-balancer sync failed', { cluster: this.cluster.name, reason: errorMessage(err) });
      });
      await this.#running;
      if (!this.#stopped) this.#timer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  async syncOnce(): Promise<void> {
    const services = await this.#core.listServiceForAllNamespaces();
    for (const svc of services.items) {
      if (svc.spec?.type !== 'LoadBalancer') continue;
      const want = await this.#pickAddress(svc);
      const have = svc.status?.loadBalancer?.ingress?.map((i) => i.ip).filter(Boolean) ?? [];
      if (have.length === (want ? 1 : 0) && (want === undefined || have[0] === want)) continue;
      await this.#core.patchNamespacedServiceStatus(
        {
          name: svc.metadata?.name ?? '',
          namespace: svc.metadata?.namespace ?? '',
          body: { status: { loadBalancer: { ingress: want ? [{ ip: want, ipMode: 'VIP' }] : [] } } },
        },
        mergePatch,
      );
      this.log.info('load balancer address set', {
        cluster: this.cluster.name,
        object: `${svc.metadata?.namespace}/${svc.metadata?.name}`,
        address: want ?? null,
      });
    }
  }

  async #pickAddress(svc: V1Service): Promise<string | undefined> {
    const ns = svc.metadata?.namespace ?? '';
    const slices = await this.#discovery.listNamespacedEndpointSlice({
      namespace: ns,
      labelSelector: `kubernetes.io/service-name=${svc.metadata?.name}`,
    });
    const ready: string[] = [];
    for (const slice of slices.items) {
      for (const ep of slice.endpoints) {
        if (ep.conditions?.ready === false) continue;
        ready.push(...ep.addresses);
      }
    }
    ready.sort();
    const gatewayPrefix = `10.${this.cluster.podOctet}.255.`;
    return ready.find((a) => a.startsWith(gatewayPrefix)) ?? ready[0];
  }
}
