// The remote clusters the destination service can read, one per kubeconfig Secret in the
// credentials namespace (label multicluster.linkerd.io/cluster-name, annotations for the
// remote trust and cluster domains), as `multicluster link` writes them. Unlike upstream it
// follows Secret updates (rotation) and tells its users when a cluster comes or goes.
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { loadKubeConfig } from '../kube/client.ts';
import { Reflector, type ReflectorEvent } from '../kube/reflector.ts';
import { errorMessage, type Logger } from '../log/logger.ts';
import { Annotations, Defaults, Labels, SecretTypes } from '../model/linkerd-names.ts';
import { ClusterCache } from './cluster-cache.ts';

export interface ClusterCredentials {
  readonly clusterName: string;
  readonly trustDomain: string;
  readonly clusterDomain: string;
  readonly kubeconfig: string;
}

/** A Secret that cannot be used as cluster credentials. */
export class InvalidCredentialsError extends Error {
  override readonly name = 'InvalidCredentialsError';
}

export function parseCredentials(secret: V1Secret): ClusterCredentials {
  const where = `Secret ${secret.metadata?.namespace}/${secret.metadata?.name}`;
  if (secret.type !== SecretTypes.remoteKubeconfig)
    throw new InvalidCredentialsError(`${where} is of type ${secret.type}, not ${SecretTypes.remoteKubeconfig}`);
  const clusterName = secret.metadata?.labels?.[Labels.secretClusterName];
  if (!clusterName) throw new InvalidCredentialsError(`${where} has no ${Labels.secretClusterName} label`);
  const data = secret.data?.['kubeconfig'];
  if (!data) throw new InvalidCredentialsError(`${where} has no kubeconfig key`);
  const a = secret.metadata?.annotations ?? {};
  return {
    clusterName,
    trustDomain: a[Annotations.trustDomain] || Defaults.trustDomain,
    clusterDomain: a[Annotations.clusterDomain] || Defaults.clusterDomain,
    kubeconfig: Buffer.from(data, 'base64').toString('utf8'),
  };
}

export interface ClusterStoreOptions {
  readonly localKubeConfig: KubeConfig;
  readonly namespace: string;
  readonly log: Logger;
  readonly onWatchError: (cluster: string, message: string) => void;
}

interface Entry {
  readonly secret: string;
  readonly digest: string;
  readonly creds: ClusterCredentials;
  readonly cache: ClusterCache;
}

export class ClusterStore {
  readonly #o: ClusterStoreOptions;
  readonly #secrets: Reflector<V1Secret>;
  readonly #clusters = new Map<string, Entry>();
  readonly #listeners = new Set<(cluster: string) => void>();

  constructor(o: ClusterStoreOptions) {
    this.#o = o;
    const core = o.localKubeConfig.makeApiClient(CoreV1Api);
    this.#secrets = new Reflector<V1Secret>({
      kubeConfig: o.localKubeConfig,
      path: `/api/v1/namespaces/${o.namespace}/secrets`,
      labelSelector: Labels.secretClusterName,
      list: (q) => core.listNamespacedSecret({ namespace: o.namespace, ...q }),
      project: (s) => ({
        metadata: {
          name: s.metadata?.name,
          namespace: s.metadata?.namespace,
          resourceVersion: s.metadata?.resourceVersion,
          labels: s.metadata?.labels,
          annotations: s.metadata?.annotations,
        },
        type: s.type,
        data: s.data?.['kubeconfig'] === undefined ? undefined : { kubeconfig: s.data['kubeconfig'] },
      }),
      onEvent: (e) => this.#onSecret(e),
    });
  }

  start(): void {
    this.#secrets.start();
  }

  listed(): Promise<void> {
    return this.#secrets.listed();
  }

  get hasListed(): boolean {
    return this.#secrets.hasListed;
  }

  get size(): number {
    return this.#clusters.size;
  }

  get(cluster: string): ClusterCache | undefined {
    return this.#clusters.get(cluster)?.cache;
  }

  clusters(): Array<{ name: string; cache: ClusterCache }> {
    return [...this.#clusters].map(([name, e]) => ({ name, cache: e.cache }));
  }

  /** Called with a cluster's name whenever it is added, re-credentialled or removed. */
  subscribe(fn: (cluster: string) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  async stop(): Promise<void> {
    await this.#secrets.stop();
    await Promise.all([...this.#clusters.values()].map((e) => e.cache.stop()));
    this.#clusters.clear();
  }

  #onSecret(e: ReflectorEvent<V1Secret>): void {
    if (e.type === 'error') {
      this.#o.log.warn('credentials Secret watch failed; keeping the clusters known so far', { reason: e.message });
      return;
    }
    if (e.type === 'listed') return;
    const secretName = e.object.metadata?.name ?? '';
    if (e.type === 'deleted') {
      this.#removeBySecret(secretName, 'credentials Secret deleted');
      return;
    }
    let creds: ClusterCredentials;
    let kc: KubeConfig;
    try {
      creds = parseCredentials(e.object);
      kc = loadKubeConfig({ yaml: creds.kubeconfig });
    } catch (err) {
      // A broken update must not take down a cluster that works: keep what we have.
      this.#o.log.error('ignoring unusable credentials Secret', { object: secretName, reason: errorMessage(err) });
      return;
    }
    const digest = createHash('sha256').update(JSON.stringify(creds)).digest('hex');
    const byName = this.#clusters.get(creds.clusterName);
    // The Secret was relabelled to another cluster: the old one goes.
    for (const [name, entry] of this.#clusters)
      if (entry.secret === secretName && name !== creds.clusterName) this.#remove(name, 'credentials Secret relabelled');
    if (byName && byName.digest === digest) return;
    const log = this.#o.log.with({ cluster: creds.clusterName, object: secretName });
    if (byName && byName.creds.trustDomain === creds.trustDomain && byName.creds.clusterDomain === creds.clusterDomain) {
      byName.cache.replaceKubeConfig(kc);
      this.#clusters.set(creds.clusterName, { ...byName, secret: secretName, digest, creds });
      log.info('cluster credentials rotated; switching once the new ones have listed');
      this.#notify(creds.clusterName);
      return;
    }
    if (byName) void byName.cache.stop();
    const cache = new ClusterCache({
      facts: { remoteName: creds.clusterName, trustDomain: creds.trustDomain },
      kubeConfig: kc,
      log,
      onWatchError: (m) => this.#o.onWatchError(creds.clusterName, m),
    });
    this.#clusters.set(creds.clusterName, { secret: secretName, digest, creds, cache });
    log.info(byName ? 'cluster re-added with new domains' : 'cluster added', { trustDomain: creds.trustDomain, clusterDomain: creds.clusterDomain });
    this.#notify(creds.clusterName);
  }

  #removeBySecret(secretName: string, reason: string): void {
    for (const [name, entry] of this.#clusters) if (entry.secret === secretName) this.#remove(name, reason);
  }

  #remove(name: string, reason: string): void {
    const entry = this.#clusters.get(name);
    if (!entry) return;
    this.#clusters.delete(name);
    void entry.cache.stop();
    this.#o.log.info('cluster removed', { cluster: name, reason });
    this.#notify(name);
  }

  #notify(cluster: string): void {
    for (const fn of [...this.#listeners]) {
      try {
        fn(cluster);
      } catch (err) {
        this.#o.log.error('cluster change listener failed', { cluster, reason: errorMessage(err) });
      }
    }
  }
}
