// `multicluster check`: fetches what each check needs from the SOURCE cluster (and, through
// each Link's credentials, its target) and evaluates upstream's multicluster categories.
// One round is a list of results; --wait repeats rounds until nothing fails or time is up.
import {
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type V1CustomResourceDefinition,
  type V1Endpoints,
} from '@kubernetes/client-node';
import { LinkInputError } from './errors.ts';
import { apiStatus } from '../kube/client.ts';
import { Defaults, Labels, ObjectNames } from '../model/linkerd-names.ts';
import {
  controllerCheck,
  crdCheck,
  gatewayAliveCheck,
  linksValidCheck,
  mirrorEndpointsCheck,
  orphanMirrorsCheck,
  probeEndpointsCheck,
  type AliveEvidence,
} from './check-local.ts';
import { readAnchors, remoteCredentialsCheck, trustAnchorCheck, type AnchorSource, type LinkWideCondition } from './check-remote.ts';
import { isFailure, type CheckResult } from './check-report.ts';
import { fetchMetrics, gatewayMetricsFor } from './gateways-metrics.ts';
import type { KubeAccess } from './kube-access.ts';
import { describeRequestError, requestOptions } from './kube-access.ts';
import { InvalidLinkError, linkGatewayAddresses, linkProbe, parseLink } from '../model/link-parse.ts';
import { LINK_CRD_NAME, LINK_GROUP, LINK_PLURAL, LINK_STORAGE_VERSION, type Link } from '../model/link-types.ts';

export interface CheckOptions {
  access: KubeAccess;
  /** Namespace of the Links, their Secrets, Leases and probe Endpoints. */
  namespace: string;
  /** Linkerd's namespace in this cluster. */
  linkerdNamespace: string;
  /** Controllers' /metrics by Link name; other Links fall back to their GatewayAlive condition. */
  metricsUrls: ReadonlyMap<string, URL>;
  now?: () => Date;
}

interface RawLink {
  metadata?: { name?: string };
  spec?: { targetClusterName?: unknown };
  status?: { conditions?: unknown };
}

export async function runChecks(o: CheckOptions): Promise<CheckResult[]> {
  const { access, namespace } = o;
  const ro = requestOptions(access);
  const now = o.now ?? (() => new Date());
  const notReached = (err: unknown, action: string, id: CheckResult['id'], description: string): CheckResult => ({
    id,
    description,
    status: 'fail',
    message: describeRequestError(err, action, access).message,
    hint: 'fix access to this cluster (--context, --kubeconfig), then run check again',
  });

  let crd: V1CustomResourceDefinition | undefined;
  try {
    crd = await access.kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: LINK_CRD_NAME }, ro);
  } catch (err) {
    if (apiStatus(err) !== 404)
      return [notReached(err, `read CustomResourceDefinition ${LINK_CRD_NAME}`, 'link-crd', `Link CRD exists and serves ${LINK_STORAGE_VERSION}`)];
  }
  const crdResult = crdCheck(crd);
  if (crdResult.status === 'fail') return [crdResult];

  let raw: RawLink[];
  try {
    const list = (await access.kc
      .makeApiClient(CustomObjectsApi)
      .listNamespacedCustomObject({ group: LINK_GROUP, version: LINK_STORAGE_VERSION, namespace, plural: LINK_PLURAL }, ro)) as { items?: RawLink[] };
    raw = list.items ?? [];
  } catch (err) {
    return [crdResult, notReached(err, `list Links in namespace ${namespace}`, 'links-valid', 'Link resources are valid')];
  }
  const links: Array<{ link: Link; conditions: LinkWideCondition[] }> = [];
  const invalid: Array<{ name: string; problems: readonly string[] }> = [];
  for (const r of raw) {
    try {
      links.push({ link: parseLink(r), conditions: linkWideConditions(r) });
    } catch (err) {
      if (!(err instanceof InvalidLinkError)) throw err;
      invalid.push({ name: r.metadata?.name ?? '<unnamed>', problems: err.problems });
    }
  }
  const unknown = [...o.metricsUrls.keys()].filter((n) => !raw.some((r) => r.metadata?.name === n));
  if (unknown.length > 0) {
    throw new LinkInputError(
      `--metrics-url names ${unknown.map((n) => `Link "${n}"`).join(', ')}, which is not ` +
        `in namespace ${namespace}: use the Link's name (kubectl -n ${namespace} get links)`,
    );
  }

  const core = access.kc.makeApiClient(CoreV1Api);
  const mirrorSelector = `${Labels.mirroredService}=true`;
  const [mirrors, mirrorEndpoints, localAnchors] = await Promise.all([
    core.listServiceForAllNamespaces({ labelSelector: mirrorSelector }, ro).then(
      (l) => l.items,
      (err: unknown) => err,
    ),
    core.listEndpointsForAllNamespaces({ labelSelector: mirrorSelector }, ro).then(
      (l) => l.items,
      (err: unknown) => err,
    ),
    links.length > 0 ? readAnchors(access, o.linkerdNamespace) : Promise.resolve<AnchorSource>({ kind: 'absent', tried: '' }),
  ]);

  const perLink = await Promise.all(
    links.map(async ({ link, conditions }) => {
      const results: CheckResult[] = [];
      const cred = await remoteCredentialsCheck(access, link, conditions);
      results.push(cred.result);
      const remoteNs = link.spec.targetClusterLinkerdNamespace || Defaults.linkerdNamespace;
      const remoteAnchors = cred.remote.ok
        ? await readAnchors(cred.remote.access, remoteNs)
        : ({ kind: 'unreachable', problem: cred.remote.problem } as const);
      results.push(trustAnchorCheck(link, localAnchors, remoteAnchors, o.linkerdNamespace));
      results.push(
        controllerCheck(
          link,
          await readOptional(() =>
            access.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: ObjectNames.lease(link.metadata.name), namespace }, ro),
          ),
          now(),
        ),
      );
      if (linkGatewayAddresses(link).length > 0 && linkProbe(link)) {
        const probe = await readOptional<V1Endpoints>(() =>
          core.readNamespacedEndpoints({ name: ObjectNames.probeService(link.metadata.name), namespace }, ro),
        );
        results.push(probeEndpointsCheck(link, probe));
        results.push(gatewayAliveCheck(link, await aliveEvidence(o, link, conditions)));
        if (Array.isArray(mirrors) && Array.isArray(mirrorEndpoints)) results.push(mirrorEndpointsCheck(link, mirrors, mirrorEndpoints));
        else
          results.push(
            notReached(
              Array.isArray(mirrors) ? mirrorEndpoints : mirrors,
              'list mirror Services and Endpoints',
              'mirror-endpoints',
              'gateway mirror Services have endpoints',
            ),
          );
      }
      return results;
    }),
  );

  const linked = new Set(raw.map((r) => r.spec?.targetClusterName).filter((c): c is string => typeof c === 'string'));
  const orphans = Array.isArray(mirrors)
    ? orphanMirrorsCheck(mirrors, linked)
    : notReached(mirrors, 'list mirror Services', 'orphan-mirrors', 'no orphan mirror Services');
  return [
    crdResult,
    linksValidCheck(
      namespace,
      links.map((l) => l.link),
      invalid,
    ),
    ...perLink.flat(),
    orphans,
  ];

  async function readOptional<T>(read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (err) {
      if (apiStatus(err) === 404) return undefined;
      throw describeRequestError(err, 'read an object the checks need', access);
    }
  }
}

async function aliveEvidence(o: CheckOptions, link: Link, conditions: readonly LinkWideCondition[]): Promise<AliveEvidence> {
  const url = o.metricsUrls.get(link.metadata.name);
  if (!url) return { source: 'status', condition: conditions.find((c) => c.type === 'GatewayAlive') };
  try {
    const samples = await fetchMetrics(url, o.access.timeoutMs);
    return { source: 'metrics', url: url.href, metrics: gatewayMetricsFor(samples, link.spec.targetClusterName ?? link.metadata.name) };
  } catch (err) {
    return { source: 'metrics-error', url: url.href, message: err instanceof Error ? err.message : String(err) };
  }
}

function linkWideConditions(r: RawLink): LinkWideCondition[] {
  const list = r.status?.conditions;
  if (!Array.isArray(list)) return [];
  return list.filter((c): c is LinkWideCondition => typeof c === 'object' && c !== null && typeof (c as LinkWideCondition).type === 'string');
}

/**
 * Runs rounds until none fails or `waitMs` has passed (0: one round). `onRetry` hears about
 * each failing round that will be retried; only the last round's results are returned.
 */
export async function runChecksUntil(
  o: CheckOptions,
  waitMs: number,
  onRetry: (failing: readonly CheckResult[]) => void,
  retryMs = 2000,
): Promise<CheckResult[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const results = await runChecks(o);
    const failing = results.filter(isFailure);
    if (failing.length === 0 || Date.now() + retryMs > deadline) return results;
    onRetry(failing);
    await new Promise((r) => setTimeout(r, retryMs));
  }
}
