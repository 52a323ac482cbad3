// The checks answered by the SOURCE cluster's own objects: the CRD, the Links, each Link's
// controller Lease, probe Endpoints, gateway liveness and mirrors. Each evaluator is pure
// (objects in, one CheckResult out); check.ts fetches the objects.
import type { V1CustomResourceDefinition, V1Endpoints, V1Lease, V1Service } from '@kubernetes/client-node';
import { Labels, ObjectNames } from '../model/linkerd-names.ts';
import type { CheckResult } from './check-report.ts';
import type { LinkWideCondition } from './check-remote.ts';
import type { ControllerGatewayMetrics } from './gateways-metrics.ts';
import { LINK_CRD_NAME, LINK_STORAGE_VERSION, type Link } from '../model/link-types.ts';

const INSTALL = 'run `multicluster install | kubectl apply -f -` in this cluster';

export function crdCheck(crd: V1CustomResourceDefinition | undefined): CheckResult {
  const base = { id: 'link-crd', description: `Link CRD exists and serves ${LINK_STORAGE_VERSION}` } as const;
  if (!crd) return { ...base, status: 'fail', message: `CustomResourceDefinition ${LINK_CRD_NAME} not found`, hint: INSTALL };
  const v = crd.spec.versions.find((x) => x.name === LINK_STORAGE_VERSION);
  if (!v?.served) {
    const served =
      crd.spec.versions
        .filter((x) => x.served)
        .map((x) => x.name)
        .join(', ') || 'none';
    return {
      ...base,
      status: 'fail',
      message: `${LINK_CRD_NAME} does not serve ${LINK_STORAGE_VERSION} (serves: ${served})`,
      hint: `upgrade the CRD: ${INSTALL}`,
    };
  }
  const established = crd.status?.conditions?.find((c) => c.type === 'Established');
  if (established?.status !== 'True') {
    return {
      ...base,
      status: 'fail',
      message: `${LINK_CRD_NAME} is not Established yet${established?.message ? ` (${established.message})` : ''}`,
      hint: 'wait for the API server to accept the CRD, then run check again (or use --wait)',
    };
  }
  return { ...base, status: 'ok' };
}

export function linksValidCheck(
  namespace: string,
  valid: readonly Link[],
  invalid: ReadonlyArray<{ name: string; problems: readonly string[] }>,
): CheckResult {
  const base = { id: 'links-valid', description: 'Link resources are valid' } as const;
  if (invalid.length > 0) {
    return {
      ...base,
      status: 'fail',
      message: invalid.map((l) => `${l.name}: ${l.problems.join('; ')}`).join(' | '),
      hint: 'fix the listed fields, or re-run `multicluster link` for that cluster and apply its output',
    };
  }
  return { ...base, status: 'ok', detail: valid.length === 0 ? `no Links in namespace ${namespace}` : valid.map((l) => l.metadata.name).join(', ') };
}

/** A controller holds the Lease and renewed it within its duration. */
export function controllerCheck(link: Link, lease: V1Lease | undefined, now: Date): CheckResult {
  const name = link.metadata.name;
  const ns = link.metadata.namespace ?? '';
  const leaseName = ObjectNames.lease(name);
  const base = { id: 'controller', description: 'a service-mirror controller runs', link: name } as const;
  const start =
    `start one: \`multicluster mirror --link ${name} --namespace ${ns}\`, or install with ` +
    `\`--controllers ${name}\` (or apply \`multicluster link\` output with its controller)`;
  if (!lease) return { ...base, status: 'fail', message: `no Lease ${ns}/${leaseName}: no controller has ever served this Link`, hint: start };
  const holder = lease.spec?.holderIdentity;
  if (!holder)
    return { ...base, status: 'fail', message: `Lease ${ns}/${leaseName} has no holder: its controller stopped and released it`, hint: start };
  const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : NaN;
  const durationS = lease.spec?.leaseDurationSeconds ?? 0;
  const ageS = (now.getTime() - renewed) / 1000;
  if (!Number.isFinite(renewed) || ageS > durationS) {
    const when = Number.isFinite(renewed) ? `last renewed ${Math.round(ageS)}s ago` : 'never renewed';
    return {
      ...base,
      status: 'fail',
      message: `Lease ${ns}/${leaseName} held by ${holder} was ${when}, past its ${durationS}s duration: the controller is not running`,
      hint: `check the controller's logs (kubectl -n ${ns} logs deploy/${ObjectNames.controller(name)} for managed controllers), or ${start}`,
    };
  }
  return { ...base, status: 'ok', detail: `held by ${holder}` };
}

/** The probe Endpoints `probe-<link>` the controller keeps pointing at the gateway. */
export function probeEndpointsCheck(link: Link, endpoints: V1Endpoints | undefined): CheckResult {
  const name = link.metadata.name;
  const ns = link.metadata.namespace ?? '';
  const ep = ObjectNames.probeService(name);
  const base = { id: 'probe-endpoints', description: 'gateway probe Endpoints exist', link: name } as const;
  const addresses = (endpoints?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip));
  if (!endpoints)
    return {
      ...base,
      status: 'fail',
      message: `Endpoints ${ns}/${ep} not found`,
      hint: 'the controller writes them once it serves the Link: start it (see the controller check)',
    };
  if (addresses.length === 0)
    return {
      ...base,
      status: 'fail',
      message: `Endpoints ${ns}/${ep} have no addresses`,
      hint: `check the Link's gatewayAddress (${link.spec.gatewayAddress ?? ''}) and the controller's logs`,
    };
  return { ...base, status: 'ok', detail: addresses.join(', ') };
}

/** Where gateway liveness came from: the controller's metrics, or its GatewayAlive condition. */
export type AliveEvidence =
  | { source: 'metrics'; url: string; metrics: ControllerGatewayMetrics }
  | { source: 'metrics-error'; url: string; message: string }
  | { source: 'status'; condition: LinkWideCondition | undefined };

export function gatewayAliveCheck(link: Link, evidence: AliveEvidence): CheckResult {
  const name = link.metadata.name;
  const cluster = link.spec.targetClusterName ?? name;
  const base = { id: 'gateway-alive', description: 'the remote gateway is alive', link: name } as const;
  const probeHint =
    `check that ${cluster}'s gateway answers ${link.spec.probeSpec?.path ?? '/ready'} on ` +
    `${link.spec.gatewayAddress ?? '?'}:${link.spec.probeSpec?.port ?? '?'} from this cluster`;
  switch (evidence.source) {
    case 'metrics-error':
      return {
        ...base,
        status: 'fail',
        message: evidence.message,
        hint: 'check that the controller runs and --metrics-url points at its admin address (--metrics-addr, default :9999)',
      };
    case 'metrics': {
      const alive = evidence.metrics.alive;
      if (alive === undefined) {
        return {
          ...base,
          status: 'fail',
          message: `${evidence.url} has no gateway_alive{target_cluster_name="${cluster}"} series`,
          hint: "point --metrics-url at the controller that holds the Link's Lease",
        };
      }
      if (!alive)
        return { ...base, status: 'fail', message: `gateway_alive{target_cluster_name="${cluster}"} is 0 at ${evidence.url}`, hint: probeHint };
      return { ...base, status: 'ok', detail: `gateway_alive=1 from ${evidence.url}` };
    }
    case 'status': {
      const c = evidence.condition;
      const from = `from the Link's GatewayAlive condition; pass --metrics-url ${name}=<url> to read the controller's gateway_alive`;
      if (!c)
        return {
          ...base,
          status: 'fail',
          message: `the Link has no GatewayAlive condition yet (${from})`,
          hint: 'the controller sets it after its first probe: start it (see the controller check)',
        };
      if (c.status !== 'True')
        return { ...base, status: 'fail', message: `GatewayAlive=${c.status} (${c.reason ?? ''}: ${c.message ?? ''}) (${from})`, hint: probeHint };
      return { ...base, status: 'ok', detail: from };
    }
  }
}

const key = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

const listSome = (names: readonly string[], max = 5) =>
  names.slice(0, max).join(', ') + (names.length > max ? ` and ${names.length - max} more` : '');

/** Gateway-mode mirrors (no remote-discovery label) of this Link need ready gateway Endpoints. */
export function mirrorEndpointsCheck(link: Link, mirrors: readonly V1Service[], endpoints: readonly V1Endpoints[]): CheckResult {
  const name = link.metadata.name;
  const cluster = link.spec.targetClusterName ?? name;
  const base = { id: 'mirror-endpoints', description: 'gateway mirror Services have endpoints', link: name } as const;
  const byKey = new Map(endpoints.map((e) => [key(e), e]));
  const mine = mirrors.filter((s) => s.metadata?.labels?.[Labels.clusterName] === cluster && s.metadata.labels[Labels.remoteDiscovery] === undefined);
  const missing = mine.filter((s) => !(byKey.get(key(s))?.subsets ?? []).some((x) => (x.addresses?.length ?? 0) > 0)).map(key);
  if (missing.length > 0) {
    return {
      ...base,
      status: 'fail',
      message: `${missing.length} of ${mine.length} mirror Services have no ready endpoints: ${listSome(missing)}`,
      hint: 'check that the gateway is alive and the controller runs; the controller repairs these Endpoints every --endpoint-refresh-period',
    };
  }
  return { ...base, status: 'ok', detail: `${mine.length} mirror Service${mine.length === 1 ? '' : 's'}` };
}

/** Mirrors whose cluster no Link targets any more (a warning: they route nowhere). */
export function orphanMirrorsCheck(mirrors: readonly V1Service[], linkedClusters: ReadonlySet<string>): CheckResult {
  const base = { id: 'orphan-mirrors', description: 'no orphan mirror Services' } as const;
  const orphans = mirrors.filter((s) => {
    const c = s.metadata?.labels?.[Labels.clusterName];
    return c !== undefined && !linkedClusters.has(c);
  });
  if (orphans.length === 0) return { ...base, status: 'ok' };
  const clusters = [...new Set(orphans.map((s) => s.metadata?.labels?.[Labels.clusterName] ?? ''))].sort();
  return {
    ...base,
    status: 'warn',
    message: `${orphans.length} mirror Services belong to clusters no Link targets (${clusters.join(', ')}): ${listSome(orphans.map(key))}`,
    hint: `delete them with \`multicluster unlink --cluster-name ${clusters[0] ?? '<cluster>'} | kubectl delete -f -\`, or restore the Link`,
  };
}
