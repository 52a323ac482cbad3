// The checks that reach the TARGET cluster through a Link's own credentials (the kubeconfig
// in its `cluster-credentials-<x>` Secret), exactly as its mirror controller does, and the
// trust-anchor comparison that needs both clusters' Linkerd roots.
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { apiErrorMessage, apiStatus, loadKubeConfig } from '../kube/client.ts';
import { Defaults } from '../model/linkerd-names.ts';
import type { CheckResult } from './check-report.ts';
import {
  TRUST_ROOTS_CONFIGMAP,
  TRUST_ROOTS_KEY,
  TrustBundleError,
  compareAnchors,
  describeAnchor,
  parseTrustBundle,
  type Anchor,
} from './check-trust.ts';
import type { KubeAccess } from './kube-access.ts';
import { describeRequestError, requestOptions } from './kube-access.ts';
import type { Link } from '../model/link-types.ts';

/** The Link's remote client, or why there is none (which the credentials check reports). */
export type RemoteAccess = { ok: true; access: KubeAccess } | { ok: false; problem: string };

const CREDENTIALS = 'remote API credentials work';
const TRUST = 'clusters share a trust anchor';

/** Condition entries of the Link-wide status the controller writes (parseLink keeps no such field). */
export interface LinkWideCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export async function remoteCredentialsCheck(
  local: KubeAccess,
  link: Link,
  conditions: readonly LinkWideCondition[],
): Promise<{ result: CheckResult; remote: RemoteAccess }> {
  const name = link.metadata.name;
  const ns = link.metadata.namespace ?? '';
  const target = link.spec.targetClusterName ?? name;
  const secretName = link.spec.clusterCredentialsSecret ?? '';
  const relink = `re-run \`multicluster link --context <${target}'s context> --cluster-name ${target}\` and apply its output to this cluster`;
  const fail = (message: string, hint: string) => ({
    result: { id: 'remote-credentials', description: CREDENTIALS, link: name, status: 'fail', message, hint } as const,
    remote: { ok: false, problem: message } as const,
  });

  let yaml: string;
  try {
    const secret = await local.kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: secretName, namespace: ns }, requestOptions(local));
    const b64 = secret.data?.['kubeconfig'];
    if (!b64) return fail(`Secret ${ns}/${secretName} has no "kubeconfig" key`, relink);
    yaml = Buffer.from(b64, 'base64').toString('utf8');
  } catch (err) {
    if (apiStatus(err) === 404) return fail(`credentials Secret ${ns}/${secretName} not found`, relink);
    return fail(describeRequestError(err, `read Secret ${ns}/${secretName}`, local).message, 'check --context and that you may read Secrets there');
  }
  let access: KubeAccess;
  try {
    const kc = loadKubeConfig({ yaml });
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('it has no current cluster');
    access = { kc, contextName: kc.getCurrentContext(), cluster, caData: cluster.caData, timeoutMs: local.timeoutMs };
  } catch (err) {
    return fail(`Secret ${ns}/${secretName} holds no usable kubeconfig (${apiErrorMessage(err).split('\n')[0]})`, relink);
  }

  const server = access.cluster.server;
  try {
    await access.kc.makeApiClient(CoreV1Api).listServiceForAllNamespaces({ limit: 1 }, requestOptions(access));
  } catch (err) {
    const code = apiStatus(err);
    if (code === 401) return fail(`${target} (${server}) rejected the credentials in Secret ${ns}/${secretName}: ${apiErrorMessage(err)}`, relink);
    if (code === 403) {
      return fail(
        `the credentials in Secret ${ns}/${secretName} may not list Services in ${target} (${server}): ${apiErrorMessage(err)}`,
        `grant the remote-access ServiceAccount read access in ${target} (\`multicluster allow\` or \`multicluster install\` there), then re-link`,
      );
    }
    return fail(
      describeRequestError(err, 'list Services', access).message.replace(/; check that the cluster.*$/, ''),
      `make ${server} reachable from here, or re-run \`multicluster link\` with --api-server-address set to an address this cluster can reach`,
    );
  }
  const bad = conditions.filter((c) => (c.type === 'CredentialsValid' || c.type === 'RemoteReachable') && c.status === 'False');
  if (bad.length > 0) {
    const said = bad.map((c) => `${c.type}=False (${c.reason ?? ''}): ${c.message ?? ''}`).join('; ');
    return {
      result: {
        id: 'remote-credentials',
        description: CREDENTIALS,
        link: name,
        status: 'fail',
        message: `the credentials work from here, but the Link's controller reports ${said}`,
        hint: `if the controller still fails, ${relink}`,
      },
      remote: { ok: true, access },
    };
  }
  return {
    result: { id: 'remote-credentials', description: CREDENTIALS, link: name, status: 'ok', detail: `listed Services in ${target} at ${server}` },
    remote: { ok: true, access },
  };
}

/** Where a cluster's anchors were found, or why they were not. */
export type AnchorSource =
  { kind: 'found'; anchors: Anchor[]; from: string } | { kind: 'absent'; tried: string } | { kind: 'error'; message: string };

/**
 * Reads `linkerd-identity-trust-roots` (key ca-bundle.crt) in `ns`. When it is missing or
 * unreadable (the remote-access role may only read linkerd-config), falls back to
 * `identityTrustAnchorsPEM` in linkerd-config, which carries the same anchors.
 */
export async function readAnchors(access: KubeAccess, ns: string): Promise<AnchorSource> {
  const core = access.kc.makeApiClient(CoreV1Api);
  const read = async (name: string): Promise<V1ConfigMap | 'absent' | 'forbidden'> => {
    try {
      return await core.readNamespacedConfigMap({ name, namespace: ns }, requestOptions(access));
    } catch (err) {
      const code = apiStatus(err);
      if (code === 404) return 'absent';
      if (code === 403) return 'forbidden';
      throw err;
    }
  };
  const parse = (pem: string, from: string): AnchorSource => {
    try {
      return { kind: 'found', anchors: parseTrustBundle(pem), from };
    } catch (err) {
      if (err instanceof TrustBundleError) return { kind: 'error', message: `${from} ${err.message}` };
      throw err;
    }
  };
  try {
    const roots = await read(TRUST_ROOTS_CONFIGMAP);
    if (typeof roots !== 'string') {
      const pem = roots.data?.[TRUST_ROOTS_KEY];
      const from = `ConfigMap ${ns}/${TRUST_ROOTS_CONFIGMAP}`;
      return pem ? parse(pem, from) : { kind: 'error', message: `${from} has no ${TRUST_ROOTS_KEY} key` };
    }
    const config = await read('linkerd-config');
    const pem = typeof config === 'string' ? undefined : anchorsFromLinkerdConfig(config);
    if (pem) return parse(pem, `identityTrustAnchorsPEM in ConfigMap ${ns}/linkerd-config`);
    if (roots === 'forbidden' && config === 'forbidden') {
      return { kind: 'error', message: `may not read ConfigMap ${ns}/${TRUST_ROOTS_CONFIGMAP} or ${ns}/linkerd-config` };
    }
    return {
      kind: 'absent',
      tried: `ConfigMap ${ns}/${TRUST_ROOTS_CONFIGMAP}${roots === 'forbidden' ? ' (forbidden)' : ''} nor ${ns}/linkerd-config`,
    };
  } catch (err) {
    return { kind: 'error', message: describeRequestError(err, `read Linkerd's trust roots in namespace ${ns}`, access).message };
  }
}

function anchorsFromLinkerdConfig(cm: V1ConfigMap): string | undefined {
  try {
    const values: unknown = parseYaml(cm.data?.['values'] ?? '');
    if (typeof values === 'object' && values !== null && 'identityTrustAnchorsPEM' in values && typeof values.identityTrustAnchorsPEM === 'string') {
      return values.identityTrustAnchorsPEM || undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export function trustAnchorCheck(
  link: Link,
  local: AnchorSource,
  remote: AnchorSource | { kind: 'unreachable'; problem: string },
  localNs: string,
): CheckResult {
  const name = link.metadata.name;
  const target = link.spec.targetClusterName ?? name;
  const remoteNs = link.spec.targetClusterLinkerdNamespace || Defaults.linkerdNamespace;
  const base = { id: 'trust-anchors', description: TRUST, link: name } as const;
  const install =
    `install Linkerd in both clusters with the same trust anchor (\`multicluster certs\` ` +
    `makes one), or pass --linkerd-namespace / set the Link's targetClusterLinkerdNamespace`;
  if (remote.kind === 'unreachable')
    return {
      ...base,
      status: 'fail',
      message: `cannot read ${target}'s trust roots: the Link's credentials do not work (${remote.problem})`,
      hint: 'fix the remote credentials first (see that check)',
    };
  if (local.kind === 'error') return { ...base, status: 'fail', message: `cannot read this cluster's trust roots: ${local.message}`, hint: install };
  if (remote.kind === 'error') {
    return {
      ...base,
      status: 'fail',
      message: `cannot read ${target}'s trust roots: ${remote.message}`,
      hint: `let the remote-access ServiceAccount get ConfigMap ${remoteNs}/${TRUST_ROOTS_CONFIGMAP} in ${target}`,
    };
  }
  if (local.kind === 'absent' && remote.kind === 'absent') {
    return {
      ...base,
      status: 'fail',
      message: `Linkerd is installed in neither cluster: found no ${local.tried} here (namespace ${localNs}) or in ${target} (namespace ${remoteNs})`,
      hint: install,
    };
  }
  if (local.kind === 'absent') return { ...base, status: 'fail', message: `Linkerd is not installed here: found no ${local.tried}`, hint: install };
  if (remote.kind === 'absent')
    return { ...base, status: 'fail', message: `Linkerd is not installed in ${target}: found no ${remote.tried}`, hint: install };
  const cmp = compareAnchors(local.anchors, remote.anchors);
  switch (cmp.kind) {
    case 'equal':
      return { ...base, status: 'ok', detail: `${cmp.count} anchor${cmp.count === 1 ? '' : 's'} in common` };
    case 'overlap':
      return {
        ...base,
        status: 'warn',
        message:
          `the clusters share ${cmp.shared} anchor(s), but only this cluster has ${cmp.onlyLocal.map(describeAnchor).join(', ') || 'none'} ` +
          `and only ${target} has ${cmp.onlyRemote.map(describeAnchor).join(', ') || 'none'}`,
        hint: 'finish the trust-anchor rotation so both clusters carry the same bundle',
      };
    case 'disjoint':
      return {
        ...base,
        status: 'fail',
        message:
          `no anchor in common: this cluster trusts ${cmp.local.map(describeAnchor).join(', ')} ` +
          `(${local.from}); ${target} trusts ${cmp.remote.map(describeAnchor).join(', ')} (${remote.from})`,
        hint: "cross-cluster mTLS cannot work; reinstall one cluster's identity with the other's trust anchor (or add it to both bundles)",
      };
  }
}
