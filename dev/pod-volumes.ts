// A pod's volumes as host directories, filled the way a kubelet fills them: Secret and
// ConfigMap keys as files, downward API fields, and ServiceAccount tokens from the
// TokenRequest API bound to the Pod. `refresh` rewrites what changed and renews a token once
// 80% of its lifetime has passed, as the kubelet does; the containers see it through their
// bind mounts.
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoreV1Api, V1KeyToPath, V1Pod, V1Volume, V1VolumeProjection } from '@kubernetes/client-node';
import { isNotFound } from '../kube/client.ts';
import { ContainerConfigError, NotRunnableError, fieldValue, type DataLookup } from './container-spec.ts';

/** Reads Secrets and ConfigMaps through the API, decoded. */
export function apiLookup(core: CoreV1Api): DataLookup {
  const read = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  return {
    async secret(namespace, name) {
      const s = await read(() => core.readNamespacedSecret({ name, namespace }));
      if (!s) return undefined;
      return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    },
    async configMap(namespace, name) {
      const c = await read(() => core.readNamespacedConfigMap({ name, namespace }));
      if (!c) return undefined;
      const binary = Object.entries(c.binaryData ?? {}).map(([k, v]): [string, string] => [k, Buffer.from(v, 'base64').toString('utf8')]);
      return { ...c.data, ...Object.fromEntries(binary) };
    },
  };
}

interface FileEntry {
  path: string;
  content: string;
  mode: number;
}

const TOKEN_DEFAULT_SECONDS = 3600;

export class PodVolumes {
  /** Per volume and token path: when the token must be renewed (epoch ms). */
  readonly #tokenRenewAt = new Map<string, number>();
  readonly #tokens = new Map<string, string>();

  constructor(
    private readonly core: CoreV1Api,
    private readonly data: DataLookup,
    private readonly pod: V1Pod,
    readonly dir: string,
  ) {}

  get namespace(): string {
    return this.pod.metadata?.namespace ?? 'default';
  }

  dirFor(volume: string): string {
    return join(this.dir, volume);
  }

  /** Fills every volume; throws ContainerConfigError while a referenced object is missing. */
  async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const v of this.pod.spec?.volumes ?? []) await this.#fill(v);
  }

  async refresh(): Promise<void> {
    for (const v of this.pod.spec?.volumes ?? []) if (!v.emptyDir) await this.#fill(v);
  }

  async #fill(v: V1Volume): Promise<void> {
    const dir = this.dirFor(v.name);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    if (v.emptyDir) return;
    let files: FileEntry[];
    if (v.secret) {
      const values = await this.data.secret(this.namespace, v.secret.secretName ?? '');
      files = this.#keyed('Secret', v.secret.secretName ?? '', values, v.secret.items, v.secret.defaultMode, v.secret.optional);
    } else if (v.configMap) {
      const values = await this.data.configMap(this.namespace, v.configMap.name ?? '');
      files = this.#keyed('ConfigMap', v.configMap.name ?? '', values, v.configMap.items, v.configMap.defaultMode, v.configMap.optional);
    } else if (v.downwardAPI) {
      files = (v.downwardAPI.items ?? []).map((i) => ({
        path: i.path,
        content: i.fieldRef ? fieldValue(this.pod, i.fieldRef.fieldPath) : '',
        mode: i.mode ?? v.downwardAPI?.defaultMode ?? 0o644,
      }));
    } else if (v.projected) {
      files = [];
      for (const src of v.projected.sources ?? []) files.push(...(await this.#projection(v.name, src, v.projected.defaultMode ?? 0o644)));
    } else {
      throw new NotRunnableError(
        `volume "${v.name}": only emptyDir, secret, configMap, downwardAPI and projected volumes are supported by the dev agent`,
      );
    }
    await writeFiles(dir, files);
  }

  #keyed(
    kind: string,
    name: string,
    values: Record<string, string> | undefined,
    items: V1KeyToPath[] | undefined,
    defaultMode: number | undefined,
    optional: boolean | undefined,
  ): FileEntry[] {
    if (!values) {
      if (optional) return [];
      throw new ContainerConfigError(`${kind} "${name}" not found`);
    }
    const mode = defaultMode ?? 0o644;
    if (!items) return Object.entries(values).map(([k, content]) => ({ path: k, content, mode }));
    return items.flatMap((i) => {
      const content = values[i.key];
      if (content === undefined) {
        if (optional) return [];
        throw new ContainerConfigError(`${kind} "${name}" has no key "${i.key}"`);
      }
      return [{ path: i.path, content, mode: i.mode ?? mode }];
    });
  }

  async #projection(volume: string, src: V1VolumeProjection, defaultMode: number): Promise<FileEntry[]> {
    if (src.serviceAccountToken) {
      const t = src.serviceAccountToken;
      return [{ path: t.path, content: await this.#token(volume, t.path, t.audience, t.expirationSeconds), mode: defaultMode }];
    }
    if (src.secret) {
      const values = await this.data.secret(this.namespace, src.secret.name ?? '');
      return this.#keyed('Secret', src.secret.name ?? '', values, src.secret.items, defaultMode, src.secret.optional);
    }
    if (src.configMap) {
      const values = await this.data.configMap(this.namespace, src.configMap.name ?? '');
      return this.#keyed('ConfigMap', src.configMap.name ?? '', values, src.configMap.items, defaultMode, src.configMap.optional);
    }
    if (src.downwardAPI) {
      return (src.downwardAPI.items ?? []).map((i) => ({
        path: i.path,
        content: i.fieldRef ? fieldValue(this.pod, i.fieldRef.fieldPath) : '',
        mode: i.mode ?? defaultMode,
      }));
    }
    throw new NotRunnableError(
      `volume "${volume}": projected sources other than serviceAccountToken, secret, configMap, downwardAPI are not supported`,
    );
  }

  async #token(volume: string, path: string, audience: string | undefined, expirationSeconds: number | undefined): Promise<string> {
    const key = `${volume}/${path}`;
    const cached = this.#tokens.get(key);
    if (cached !== undefined && Date.now() < (this.#tokenRenewAt.get(key) ?? 0)) return cached;
    const meta = this.pod.metadata ?? {};
    const requested = expirationSeconds ?? TOKEN_DEFAULT_SECONDS;
    const res = await this.core.createNamespacedServiceAccountToken({
      name: this.pod.spec?.serviceAccountName ?? 'default',
      namespace: this.namespace,
      body: {
        spec: {
          audiences: audience ? [audience] : [],
          expirationSeconds: requested,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: meta.name, uid: meta.uid },
        },
      },
    });
    const token = res.status?.token;
    if (!token)
      throw new ContainerConfigError(`TokenRequest for ServiceAccount "${this.pod.spec?.serviceAccountName ?? 'default'}" returned no token`);
    const issued = Date.now();
    const expires = res.status?.expirationTimestamp ? new Date(res.status.expirationTimestamp).getTime() : issued + requested * 1000;
    this.#tokens.set(key, token);
    this.#tokenRenewAt.set(key, issued + 0.8 * (expires - issued));
    return token;
  }
}

/** Writes each file atomically (rename) and removes files the volume no longer holds. */
async function writeFiles(dir: string, files: readonly FileEntry[]): Promise<void> {
  const wanted = new Set<string>();
  for (const f of files) {
    if (f.path.startsWith('/') || f.path.split('/').includes('..')) throw new NotRunnableError(`volume file path "${f.path}" must be relative`);
    const dest = join(dir, f.path);
    wanted.add(f.path.split('/')[0] ?? f.path);
    await mkdir(join(dest, '..'), { recursive: true });
    // Unchanged files stay untouched: programs watching them should see real changes only.
    if ((await readFile(dest, 'utf8').catch(() => undefined)) === f.content) continue;
    const tmp = `${dest}.${process.pid}.tmp`;
    await writeFile(tmp, f.content, { mode: f.mode });
    await rename(tmp, dest);
  }
  for (const name of await readdir(dir)) if (!wanted.has(name)) await rm(join(dir, name), { recursive: true, force: true });
}
