// Reading the TARGET cluster for `multicluster link`: its API server address and CA, a
// credential for the remote-access ServiceAccount, Linkerd's trust and cluster domains, and
// the gateway Service. The only write is creating the token Secret with --create-credentials.
import type { V1ConfigMap, V1Secret, V1Service } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { LinkInputError } from './errors.ts';
import type { Logger } from '../log/logger.ts';
import { Annotations, Defaults } from '../model/linkerd-names.ts';
import { formatGoDuration, tryParseGoDuration } from '../duration/go-duration.ts';
import type { KubeAccess } from './kube-access.ts';
import { describeRequestError, isConflict, isForbidden, isNotFound, requestOptions } from './kube-access.ts';
import type { GatewayFacts } from './link-render.ts';
import { renderKubeconfig } from './link-render.ts';
import { SA_NAME_ANNOTATION, SA_TOKEN_SECRET_TYPE } from './version.ts';

export class MissingServiceAccountError extends LinkInputError {}
export class MissingCredentialsError extends LinkInputError {}
export class GatewayNotReadyError extends LinkInputError {}
export class LinkerdConfigError extends LinkInputError {}

export interface TargetReadOptions {
  clusterName: string;
  /** Namespace of the remote-access ServiceAccount in the target. */
  namespace: string;
  serviceAccountName: string;
  /** Linkerd's namespace in the target, holding `linkerd-config`. */
  linkerdNamespace: string;
  apiServerAddress?: string | undefined;
  /** Undefined with --gateway=false (pod-to-pod). */
  gateway: GatewayLookup | undefined;
  /** Seconds for a TokenRequest token; 0 uses the ServiceAccount token Secret. */
  tokenLifetimeSeconds: number;
  createCredentials: boolean;
  /** Used when the target has no linkerd-config (and to override it). */
  trustDomain?: string | undefined;
  clusterDomain?: string | undefined;
  log: Logger;
  /** How long to wait for the token controller to fill a token Secret. */
  tokenWaitMs?: number;
}

export interface GatewayLookup {
  name: string;
  namespace: string;
  addresses?: string[] | undefined;
  port?: number | undefined;
}

export type CredentialSource = { kind: 'token-request'; expiresAt: string } | { kind: 'secret'; secretName: string };

export interface TargetClusterFacts {
  kubeconfig: string;
  trustDomain: string;
  clusterDomain: string;
  gateway: GatewayFacts | undefined;
  credential: CredentialSource;
}

export async function readTargetCluster(access: KubeAccess, opts: TargetReadOptions): Promise<TargetClusterFacts> {
  const core = access.kc.makeApiClient(CoreV1Api);
  const ro = requestOptions(access);
  const sa = `${opts.namespace}/${opts.serviceAccountName}`;

  try {
    await core.readNamespacedServiceAccount({ name: opts.serviceAccountName, namespace: opts.namespace }, ro);
  } catch (err) {
    if (!isNotFound(err)) throw describeRequestError(err, `read ServiceAccount ${sa}`, access);
    throw new MissingServiceAccountError(
      `ServiceAccount ${sa} not found in context "${access.contextName}": run "multicluster install" there, or ` +
        `"multicluster allow --service-account-name ${opts.serviceAccountName} --namespace ${opts.namespace} | kubectl apply -f -"`,
    );
  }

  const domains = await readDomains(access, core, opts);
  let gateway: GatewayFacts | undefined;
  if (opts.gateway) {
    const { name, namespace } = opts.gateway;
    let svc: V1Service;
    try {
      svc = await core.readNamespacedService({ name, namespace }, ro);
    } catch (err) {
      if (!isNotFound(err)) throw describeRequestError(err, `read gateway Service ${namespace}/${name}`, access);
      throw new GatewayNotReadyError(
        `gateway Service ${namespace}/${name} not found in context "${access.contextName}": install the gateway there, ` +
          'pass --gateway-name/--gateway-namespace, or use --gateway=false for pod-to-pod links',
      );
    }
    gateway = gatewayFromService(svc, opts.gateway);
  }

  const { token, credential } = await obtainToken(access, core, opts);
  const kubeconfig = renderKubeconfig({
    clusterName: opts.clusterName,
    server: opts.apiServerAddress || access.cluster.server,
    ...caFields(access),
    userName: opts.serviceAccountName,
    token,
  });
  return { kubeconfig, ...domains, gateway, credential };
}

function caFields(access: KubeAccess): { certificateAuthorityData?: string; insecureSkipTlsVerify?: boolean; tlsServerName?: string } {
  const c = access.cluster;
  const out: { certificateAuthorityData?: string; insecureSkipTlsVerify?: boolean; tlsServerName?: string } = {};
  if (access.caData) out.certificateAuthorityData = access.caData;
  else if (c.skipTLSVerify) out.insecureSkipTlsVerify = true;
  if (c.tlsServerName) out.tlsServerName = c.tlsServerName;
  return out;
}

async function readDomains(access: KubeAccess, core: CoreV1Api, opts: TargetReadOptions): Promise<{ trustDomain: string; clusterDomain: string }> {
  let cm: V1ConfigMap | undefined;
  try {
    cm = await core.readNamespacedConfigMap({ name: 'linkerd-config', namespace: opts.linkerdNamespace }, requestOptions(access));
  } catch (err) {
    if (!isNotFound(err)) throw describeRequestError(err, `read ConfigMap ${opts.linkerdNamespace}/linkerd-config`, access);
  }
  const fromConfig = cm ? linkerdConfigDomains(cm) : {};
  const trustDomain = opts.trustDomain || fromConfig.trustDomain;
  const clusterDomain = opts.clusterDomain || fromConfig.clusterDomain || (cm ? Defaults.clusterDomain : undefined);
  if (!trustDomain || !clusterDomain) {
    throw new LinkerdConfigError(
      `cannot find Linkerd's trust and cluster domains: ConfigMap ${opts.linkerdNamespace}/linkerd-config ` +
        `${cm ? 'lacks identityTrustDomain' : 'does not exist'} in context "${access.contextName}"; ` +
        'install Linkerd there, pass --linkerd-namespace, or pass --trust-domain and --cluster-domain',
    );
  }
  return { trustDomain, clusterDomain };
}

/** `identityTrustDomain` and `clusterDomain` from linkerd-config's `values` document. */
export function linkerdConfigDomains(cm: V1ConfigMap): { trustDomain?: string; clusterDomain?: string } {
  const text = cm.data?.values;
  if (!text) return {};
  let values: unknown;
  try {
    values = parseYaml(text);
  } catch {
    return {};
  }
  if (typeof values !== 'object' || values === null) return {};
  const v = values as Record<string, unknown>;
  const out: { trustDomain?: string; clusterDomain?: string } = {};
  if (typeof v.identityTrustDomain === 'string' && v.identityTrustDomain) out.trustDomain = v.identityTrustDomain;
  if (typeof v.clusterDomain === 'string' && v.clusterDomain) out.clusterDomain = v.clusterDomain;
  return out;
}

/** Link gateway fields from the gateway Service, like upstream's link-gen. Pure. */
export function gatewayFromService(svc: V1Service, lookup: GatewayLookup): GatewayFacts {
  const id = `${svc.metadata?.namespace ?? lookup.namespace}/${svc.metadata?.name ?? lookup.name}`;
  const type = svc.spec?.type ?? 'ClusterIP';
  const ingress = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter((a) => a !== '');
  const addresses = lookup.addresses && lookup.addresses.length > 0 ? lookup.addresses : ingress;
  if (addresses.length === 0) {
    throw new GatewayNotReadyError(
      `gateway Service ${id} (type ${type}) has no external address yet (status.loadBalancer.ingress is empty): ` +
        'wait for the load balancer, or pass --gateway-addresses with addresses the source cluster can reach',
    );
  }
  const annotations = svc.metadata?.annotations ?? {};
  const identity = annotations[Annotations.gatewayIdentity];
  if (!identity)
    throw new GatewayNotReadyError(
      `gateway Service ${id} has no ${Annotations.gatewayIdentity} annotation: reinstall it with "multicluster install"`,
    );
  const probePath = annotations[Annotations.probePath];
  if (!probePath)
    throw new GatewayNotReadyError(`gateway Service ${id} has no ${Annotations.probePath} annotation: reinstall it with "multicluster install"`);
  const rawPeriod = annotations[Annotations.probePeriod] ?? String(Defaults.probePeriodSeconds);
  const periodMs = /^\d+$/.test(rawPeriod) ? Number(rawPeriod) * 1000 : tryParseGoDuration(rawPeriod);
  if (periodMs === undefined || periodMs <= 0) {
    throw new GatewayNotReadyError(
      `gateway Service ${id} has an invalid ${Annotations.probePeriod} annotation "${rawPeriod}": use seconds, e.g. "3"`,
    );
  }
  const portOf = (name: string): number | undefined => {
    const p = (svc.spec?.ports ?? []).find((x) => x.name === name);
    if (!p) return undefined;
    return type === 'NodePort' ? p.nodePort : p.port;
  };
  const gatewayPort = lookup.port ?? portOf(Defaults.gatewayPortName);
  if (!gatewayPort) throw new GatewayNotReadyError(`gateway Service ${id} has no port named ${Defaults.gatewayPortName}: pass --gateway-port`);
  const probePort = portOf(Defaults.probePortName);
  if (!probePort)
    throw new GatewayNotReadyError(`gateway Service ${id} has no port named ${Defaults.probePortName}: reinstall it with "multicluster install"`);
  return { addresses, port: gatewayPort, identity, probe: { path: probePath, port: probePort, period: formatGoDuration(periodMs) } };
}

async function obtainToken(access: KubeAccess, core: CoreV1Api, opts: TargetReadOptions): Promise<{ token: string; credential: CredentialSource }> {
  const { serviceAccountName: name, namespace } = opts;
  const ro = requestOptions(access);
  if (opts.tokenLifetimeSeconds > 0) {
    try {
      const tr = await core.createNamespacedServiceAccountToken(
        {
          name,
          namespace,
          body: {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenRequest',
            spec: { audiences: [], expirationSeconds: opts.tokenLifetimeSeconds },
          },
        },
        ro,
      );
      const token = tr.status?.token;
      if (token) {
        const expires = tr.status?.expirationTimestamp;
        const expiresAt = expires instanceof Date ? expires.toISOString() : String(expires ?? '');
        const granted = expires instanceof Date ? Math.round((expires.getTime() - Date.now()) / 1000) : opts.tokenLifetimeSeconds;
        if (granted < opts.tokenLifetimeSeconds * 0.9) {
          opts.log.warn('the API server shortened the token lifetime; re-run link before it expires', {
            expiresAt,
            requestedSeconds: opts.tokenLifetimeSeconds,
          });
        }
        return { token, credential: { kind: 'token-request', expiresAt } };
      }
    } catch (err) {
      if (!isForbidden(err) && !isNotFound(err)) throw describeRequestError(err, `request a token for ServiceAccount ${namespace}/${name}`, access);
      opts.log.warn('TokenRequest is not allowed; falling back to the ServiceAccount token Secret', { serviceAccount: `${namespace}/${name}` });
    }
  }
  return tokenFromSecret(access, core, opts);
}

async function tokenFromSecret(
  access: KubeAccess,
  core: CoreV1Api,
  opts: TargetReadOptions,
): Promise<{ token: string; credential: CredentialSource }> {
  const { serviceAccountName: sa, namespace } = opts;
  const ro = requestOptions(access);
  const wanted = `${sa}-token`;
  let secrets: V1Secret[];
  try {
    const list = await core.listNamespacedSecret({ namespace, fieldSelector: `type=${SA_TOKEN_SECRET_TYPE}` }, ro);
    secrets = list.items.filter((s) => s.metadata?.annotations?.[SA_NAME_ANNOTATION] === sa);
  } catch (err) {
    throw describeRequestError(err, `list token Secrets in namespace ${namespace}`, access);
  }
  // Prefer the conventional name so repeated runs pick the same Secret.
  secrets.sort((a, b) => rank(a) - rank(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  function rank(s: V1Secret): number {
    return s.metadata?.name === wanted ? 0 : 1;
  }
  let secretName = secrets[0]?.metadata?.name;
  if (!secretName) {
    if (!opts.createCredentials) {
      throw new MissingCredentialsError(
        `ServiceAccount ${namespace}/${sa} has no token Secret: create Secret ${namespace}/${wanted} of type ${SA_TOKEN_SECRET_TYPE} ` +
          `annotated ${SA_NAME_ANNOTATION}=${sa} in context "${access.contextName}" (multicluster allow renders it), or re-run with --create-credentials`,
      );
    }
    try {
      await core.createNamespacedSecret(
        {
          namespace,
          body: {
            apiVersion: 'v1',
            kind: 'Secret',
            type: SA_TOKEN_SECRET_TYPE,
            metadata: { name: wanted, namespace, annotations: { [SA_NAME_ANNOTATION]: sa } },
          },
        },
        ro,
      );
      opts.log.info('created ServiceAccount token Secret', { secret: `${namespace}/${wanted}` });
    } catch (err) {
      if (!isConflict(err)) throw describeRequestError(err, `create Secret ${namespace}/${wanted}`, access);
    }
    secretName = wanted;
  }
  const token = await waitForToken(access, core, namespace, secretName, opts.tokenWaitMs ?? 10_000);
  return { token, credential: { kind: 'secret', secretName } };
}

async function waitForToken(access: KubeAccess, core: CoreV1Api, namespace: string, name: string, waitMs: number): Promise<string> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let secret: V1Secret;
    try {
      secret = await core.readNamespacedSecret({ name, namespace }, requestOptions(access));
    } catch (err) {
      throw describeRequestError(err, `read Secret ${namespace}/${name}`, access);
    }
    const data = secret.data?.token;
    if (data) return Buffer.from(data, 'base64').toString('utf8');
    if (Date.now() >= deadline) {
      throw new MissingCredentialsError(
        `Secret ${namespace}/${name} has no token after ${waitMs / 1000}s: check that ` +
          `kube-controller-manager runs in context "${access.contextName}" and the ServiceAccount exists`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
