// GetProfile: the requested Service's fully qualified name (the proxy's logical name for
// the Service, which it resolves with Get) and whether the port is opaque. Sent once, kept
// open and re-sent whenever the Service's answer changes.
import type { V1Service } from '@kubernetes/client-node';
import { Annotations } from '../model/linkerd-names.ts';
import type { ClusterCache, ServiceWatch } from './cluster-cache.ts';
import { NotSyncedError, UnknownPortError, UnknownServiceError, within } from './errors.ts';
import { parseOpaquePorts } from './opaque-ports.ts';
import { serviceFqdn, type ServiceTarget } from './target.ts';
import { servicePort } from './translate.ts';
import type { Profile } from './types.ts';

export function profileOf(svc: V1Service, target: ServiceTarget, clusterDomain: string): Profile {
  return {
    fullyQualifiedName: serviceFqdn(target, clusterDomain),
    opaqueProtocol: parseOpaquePorts(svc.metadata?.annotations?.[Annotations.opaquePorts])(target.port),
  };
}

export class ProfileWatch {
  readonly #watch: ServiceWatch;
  #last = '';

  private constructor(watch: ServiceWatch) {
    this.#watch = watch;
  }

  /** Opens the watch and sends the first profile; throws errors.ts classes for an unknown Service or port. */
  static async open(
    local: ClusterCache,
    target: ServiceTarget,
    o: { clusterDomain: string; localListWaitMs: number },
    send: (p: Profile) => void,
  ): Promise<ProfileWatch> {
    const { clusterDomain } = o;
    let pw: ProfileWatch | undefined;
    const watch = local.watchService(target.namespace, target.name, () => pw?.refresh(target, clusterDomain, send));
    try {
      await within(
        watch.listed(),
        o.localListWaitMs,
        () => new NotSyncedError(`the local API server has not listed namespace ${target.namespace} yet`),
      );
      const svc = watch.view().service;
      if (!svc) throw new UnknownServiceError(`Service ${target.namespace}/${target.name} not found`);
      if (!servicePort(svc, target.port)) throw new UnknownPortError(`Service ${target.namespace}/${target.name} has no port ${target.port}`);
      pw = new ProfileWatch(watch);
      pw.refresh(target, clusterDomain, send);
      return pw;
    } catch (err) {
      watch.close();
      throw err;
    }
  }

  close(): void {
    this.#watch.close();
  }

  refresh(target: ServiceTarget, clusterDomain: string, send: (p: Profile) => void): void {
    const svc = this.#watch.view().service;
    // A deleted Service keeps its last profile: the proxy's Get stream reports the deletion.
    if (!svc) return;
    const p = profileOf(svc, target, clusterDomain);
    const key = JSON.stringify(p);
    if (key === this.#last) return;
    this.#last = key;
    send(p);
  }
}
