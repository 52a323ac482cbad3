// What the dev agent makes of a container spec: whether it can run it at all (only the
// project's image, whose entrypoint is the `multicluster` binary of this checkout), the argv,
// and the environment with Kubernetes' own resolution rules (fieldRef, secretKeyRef,
// configMapKeyRef, envFrom, and $(VAR) references).
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { DEFAULT_IMAGE } from '../link/version.ts';

/** The image's ENTRYPOINT; a `command` naming it (or its path) runs the same binary. */
export const ENTRYPOINT = 'multicluster';

export class NotRunnableError extends Error {
  override readonly name = 'NotRunnableError';
}

/** A Secret or ConfigMap key was missing: the kubelet's CreateContainerConfigError, retried later. */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

/** The repository part of an image reference (no tag, no digest). */
export function imageRepository(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > lastSlash ? noDigest.slice(0, colon) : noDigest;
}

/** The project's image under any tag (k3d/up.sh and `--image` may use their own), plus any extra images named. */
export function isProjectImage(image: string | undefined, extra: readonly string[] = []): boolean {
  if (!image) return false;
  return imageRepository(image) === imageRepository(DEFAULT_IMAGE) || extra.includes(image);
}

/** Why the agent cannot run this pod, or undefined when it can. */
export function unrunnableReason(pod: V1Pod, extraImages: readonly string[] = []): string | undefined {
  const spec = pod.spec;
  if (!spec) return 'the Pod has no spec';
  const foreign = [...(spec.initContainers ?? []), ...spec.containers].find((c) => !isProjectImage(c.image, extraImages));
  if (foreign) {
    return (
      `container "${foreign.name}" uses image "${foreign.image ?? ''}"; the dev clusters have no container runtime and run only ` +
      `the project's image (${imageRepository(DEFAULT_IMAGE)}), as the multicluster binary of the checkout`
    );
  }
  if (spec.initContainers?.length) return 'init containers are not supported by the dev agent';
  if (spec.hostNetwork) return 'hostNetwork pods are not supported by the dev agent';
  for (const c of spec.containers) {
    try {
      containerArgv(c, {});
    } catch (err) {
      if (err instanceof NotRunnableError) return err.message;
      throw err;
    }
  }
  return undefined;
}

/** The `multicluster` arguments: the image's entrypoint plus args, or a command that names the entrypoint. */
export function containerArgv(c: V1Container, env: Readonly<Record<string, string>>): string[] {
  const command = c.command ?? [];
  const args = c.args ?? [];
  if (command.length > 0) {
    const first = command[0] ?? '';
    if (first !== ENTRYPOINT && !first.endsWith(`/${ENTRYPOINT}`)) {
      throw new NotRunnableError(`container "${c.name}" runs "${first}"; the project's image only holds the ${ENTRYPOINT} binary`);
    }
  }
  return [...command.slice(1), ...args].map((a) => expandVars(a, env));
}

/** Kubernetes' $(VAR) expansion: $$ escapes, unknown references stay as written. */
export function expandVars(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && Object.hasOwn(env, name) ? (env[name] ?? '') : m;
  });
}

/** The downward API fields a fieldRef may name (the ones a kubelet resolves for env). */
export function fieldValue(pod: V1Pod, path: string): string {
  const meta = pod.metadata ?? {};
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed) return (keyed[1] === 'labels' ? meta.labels : meta.annotations)?.[keyed[2] ?? ''] ?? '';
  switch (path) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    case 'status.podIPs':
      return (pod.status?.podIPs ?? []).map((p) => p.ip).join(',');
    case 'status.hostIP':
      return pod.status?.hostIP ?? '';
    case 'status.hostIPs':
      return (pod.status?.hostIPs ?? []).map((p) => p.ip).join(',');
    default:
      throw new NotRunnableError(`fieldRef "${path}" is not supported by the dev agent`);
  }
}

/** Reads Secret and ConfigMap data (decoded); undefined when the object does not exist. */
export interface DataLookup {
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

/**
 * The container's environment in Kubernetes order: envFrom first, then env entries, each
 * able to reference the ones before it. `base` (service host, marker) comes first of all.
 */
export async function resolveEnv(pod: V1Pod, c: V1Container, data: DataLookup, base: Record<string, string>): Promise<Record<string, string>> {
  const ns = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = { ...base };
  for (const from of c.envFrom ?? []) {
    const ref = from.secretRef ?? from.configMapRef;
    if (!ref) continue;
    const kind = from.secretRef ? 'Secret' : 'ConfigMap';
    const refName = ref.name ?? '';
    const values = from.secretRef ? await data.secret(ns, refName) : await data.configMap(ns, refName);
    if (!values) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind} "${refName}" not found`);
    }
    for (const [k, v] of Object.entries(values)) env[`${from.prefix ?? ''}${k}`] = v;
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined || !e.valueFrom) {
      env[e.name] = expandVars(e.value ?? '', env);
      continue;
    }
    const vf = e.valueFrom;
    if (vf.fieldRef) env[e.name] = fieldValue(pod, vf.fieldRef.fieldPath);
    else if (vf.secretKeyRef || vf.configMapKeyRef) {
      const ref = vf.secretKeyRef ?? vf.configMapKeyRef;
      if (!ref) continue;
      const kind = vf.secretKeyRef ? 'Secret' : 'ConfigMap';
      const values = vf.secretKeyRef ? await data.secret(ns, ref.name ?? '') : await data.configMap(ns, ref.name ?? '');
      const v = values?.[ref.key];
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`${kind} "${ref.name}" has no key "${ref.key}" (for env ${e.name})`);
      }
      env[e.name] = v;
    } else throw new NotRunnableError(`env ${e.name}: only value, fieldRef, secretKeyRef and configMapKeyRef are supported by the dev agent`);
  }
  return env;
}
