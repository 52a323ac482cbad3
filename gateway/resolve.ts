// Name → endpoints, from a watch-based cache of the local cluster's Services and
// EndpointSlices (never DNS per request). Each target keeps one balancer, refreshed only when
// the caches changed, so what the balancer learned about an endpoint survives updates.
import { CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1EndpointSlice, type V1Service } from '@kubernetes/client-node';
import { Reflector, type ReflectorEvent } from '../kube/reflector.ts';
import type { Logger } from '../log/logger.ts';
import { P2cBalancer, type BalancerOptions, type Endpoint } from './balancer.ts';
import { GatewayDomainInvalidError, NoEndpointsError } from './errors.ts';
import { ALLOWED_CLIENTS_ANNOTATION } from './policy.ts';
import { parseTargetName, type TargetName } from './target-name.ts';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface ResolvedTarget {
  service: { name: string; namespace: string };
  /** The Service's allowed-clients annotation. */
  allowedClients?: string;
  balancer: P2cBalancer;
}

/** What the HTTP and opaque layers need: a name:port → target lookup. */
export interface TargetResolver {
  resolve(name: string, port: number): ResolvedTarget;
}

export interface ServiceResolverOptions {
  kubeConfig: KubeConfig;
  suffix: string;
  log: Logger;
  balancer?: BalancerOptions;
}

interface CachedTarget {
  version: number;
  target: ResolvedTarget;
}

export class ServiceResolver implements TargetResolver {
  readonly #services: Reflector<V1Service>;
  readonly #slices: Reflector<V1EndpointSlice>;
  readonly #suffix: string;
  readonly #balancerOpts: BalancerOptions;
  readonly #targets = new Map<string, CachedTarget>();
  readonly #names = new Map<string, TargetName>();
  #version = 0;

  constructor(o: ServiceResolverOptions) {
    const core = o.kubeConfig.makeApiClient(CoreV1Api);
    const discovery = o.kubeConfig.makeApiClient(DiscoveryV1Api);
    this.#suffix = o.suffix;
    this.#balancerOpts = o.balancer ?? {};
    const onEvent = (kind: string) => (e: ReflectorEvent<unknown>) => {
      if (e.type === 'error') o.log.warn('local cache cannot reach the API server', { kind, reason: e.message });
      else this.#version++;
    };
    this.#services = new Reflector<V1Service>({
      kubeConfig: o.kubeConfig,
      path: '/api/v1/services',
      list: (q) => core.listServiceForAllNamespaces(q),
      onEvent: onEvent('Service'),
    });
    this.#slices = new Reflector<V1EndpointSlice>({
      kubeConfig: o.kubeConfig,
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      labelSelector: SERVICE_NAME_LABEL,
      list: (q) => discovery.listEndpointSliceForAllNamespaces(q),
      onEvent: onEvent('EndpointSlice'),
    });
  }

  async start(): Promise<void> {
    this.#services.start();
    this.#slices.start();
    await Promise.all([this.#services.listed(), this.#slices.listed()]);
  }

  get synced(): boolean {
    return this.#services.hasListed && this.#slices.hasListed;
  }

  async stop(): Promise<void> {
    await Promise.all([this.#services.stop(), this.#slices.stop()]);
  }

  /** Throws GatewayDomainInvalidError for unknown names and NoEndpointsError when nothing is ready. */
  resolve(name: string, port: number): ResolvedTarget {
    let parsed = this.#names.get(name);
    if (parsed === undefined) {
      parsed = parseTargetName(name, this.#suffix);
      // Valid names only (an invalid one threw), and never without bound.
      if (this.#names.size >= 10_000) this.#names.clear();
      this.#names.set(name, parsed);
    }
    const key = `${parsed.hostname ?? ''}.${parsed.service}.${parsed.namespace}:${port}`;
    let cached = this.#targets.get(key);
    if (cached === undefined || cached.version !== this.#version) {
      const target = cached?.target ?? {
        service: { name: parsed.service, namespace: parsed.namespace },
        balancer: new P2cBalancer(this.#balancerOpts),
      };
      this.#refresh(target, parsed, port);
      cached = { version: this.#version, target };
      this.#targets.set(key, cached);
    }
    if (cached.target.balancer.size === 0) {
      // An unknown Service stays unknown until the cache changes; keep its entry from growing the map.
      throw new NoEndpointsError();
    }
    return cached.target;
  }

  #refresh(target: ResolvedTarget, parsed: TargetName, port: number): void {
    const svc = this.#services.get(parsed.service, parsed.namespace);
    const svcPort = svc?.spec?.ports?.find((p) => p.port === port);
    if (svc === undefined || svcPort === undefined || svc.spec?.type === 'ExternalName') {
      this.#targets.delete(`${parsed.hostname ?? ''}.${parsed.service}.${parsed.namespace}:${port}`);
      throw new GatewayDomainInvalidError();
    }
    target.allowedClients = svc.metadata?.annotations?.[ALLOWED_CLIENTS_ANNOTATION];
    const endpoints: Endpoint[] = [];
    const portName = svcPort.name ?? '';
    for (const slice of this.#slices.list(parsed.namespace)) {
      if (slice.metadata?.labels?.[SERVICE_NAME_LABEL] !== parsed.service || slice.addressType === 'FQDN') continue;
      const slicePort = slice.ports?.find((p) => (p.name ?? '') === portName);
      if (slicePort?.port === undefined) continue;
      for (const ep of slice.endpoints ?? []) {
        if (ep.conditions?.ready === false) continue;
        if (parsed.hostname !== undefined && ep.hostname !== parsed.hostname) continue;
        const ip = ep.addresses[0];
        if (ip !== undefined) endpoints.push({ ip, port: slicePort.port });
      }
    }
    target.balancer.update(endpoints);
  }
}
