// Pure rendering of `multicluster link` output from facts already read from the target
// cluster. Everything here is deterministic: the same input gives byte-identical output.
import { stringify } from 'yaml';
import { Annotations, Defaults, Labels, ObjectNames, SecretTypes } from '../model/linkerd-names.ts';
import { renderController } from './controller.ts';
import type { LabelSelector, Link } from '../model/link-types.ts';
import { LINK_API_VERSION, LINK_KIND } from '../model/link-types.ts';
import type { Manifest } from './manifest.ts';
import { base64 } from './manifest.ts';
import type { PullPolicy } from './version.ts';
import { CREATED_BY } from './version.ts';

/** Where and how the source cluster's mirror reaches the target API server. */
export interface KubeconfigInput {
  /** Also the kubeconfig's cluster, context and user names: one cluster, nothing else. */
  clusterName: string;
  server: string;
  /** Base64 PEM, embedded so the Secret does not depend on files on the user's machine. */
  certificateAuthorityData?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  userName: string;
  token: string;
}

export function renderKubeconfig(k: KubeconfigInput): string {
  const cluster: Record<string, string | boolean> = { server: k.server };
  if (k.certificateAuthorityData) cluster['certificate-authority-data'] = k.certificateAuthorityData;
  else if (k.insecureSkipTlsVerify) cluster['insecure-skip-tls-verify'] = true;
  if (k.tlsServerName) cluster['tls-server-name'] = k.tlsServerName;
  return stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: k.clusterName, cluster }],
      contexts: [{ name: k.clusterName, context: { cluster: k.clusterName, user: k.userName } }],
      'current-context': k.clusterName,
      preferences: {},
      users: [{ name: k.userName, user: { token: k.token } }],
    },
    { lineWidth: 0 },
  );
}

/** Gateway facts read from the target's gateway Service (absent in pod-to-pod mode). */
export interface GatewayFacts {
  addresses: string[];
  port: number;
  identity: string;
  probe: { path: string; port: number; period: string };
}

export interface LinkRenderInput {
  clusterName: string;
  /** Multicluster namespace in the SOURCE cluster (Link, credentials, controller). */
  namespace: string;
  /** Linkerd namespace in the SOURCE cluster, where destination reads cluster Secrets. */
  linkerdNamespace: string;
  /** Linkerd namespace in the TARGET cluster (recorded for `check`). */
  targetLinkerdNamespace: string;
  kubeconfig: string;
  trustDomain: string;
  clusterDomain: string;
  gateway: GatewayFacts | undefined;
  /** Gateway-mode selector; ignored (nil) when there is no gateway. */
  selector: LabelSelector;
  remoteDiscoverySelector: LabelSelector;
  federatedServiceSelector: LabelSelector;
  excludedAnnotations: string[];
  excludedLabels: string[];
  /** Undefined when the controller is managed elsewhere (e.g. `install --controllers`). */
  controller: { image: string; imagePullPolicy: PullPolicy; enableHeadlessServices: boolean; enableNamespaceCreation: boolean } | undefined;
}

export function renderLink(input: LinkRenderInput): Link {
  const spec: Link['spec'] = {
    targetClusterName: input.clusterName,
    targetClusterDomain: input.clusterDomain,
    targetClusterLinkerdNamespace: input.targetLinkerdNamespace,
    clusterCredentialsSecret: ObjectNames.credentialsSecret(input.clusterName),
  };
  if (input.gateway) {
    const g = input.gateway;
    spec.gatewayAddress = g.addresses.join(',');
    spec.gatewayPort = String(g.port);
    spec.gatewayIdentity = g.identity;
    spec.probeSpec = {
      path: g.probe.path,
      port: String(g.probe.port),
      period: g.probe.period,
      timeout: Defaults.probeTimeout,
      failureThreshold: Defaults.probeFailureThreshold,
    };
    spec.selector = input.selector;
  }
  spec.remoteDiscoverySelector = input.remoteDiscoverySelector;
  spec.federatedServiceSelector = input.federatedServiceSelector;
  spec.excludedAnnotations = input.excludedAnnotations;
  spec.excludedLabels = input.excludedLabels;
  return {
    apiVersion: LINK_API_VERSION,
    kind: LINK_KIND,
    metadata: { name: input.clusterName, namespace: input.namespace, annotations: { [Annotations.createdBy]: CREATED_BY } },
    spec,
  };
}

/** Everything `multicluster link` prints, in apply order. */
export function renderLinkManifests(input: LinkRenderInput): Manifest[] {
  const name = ObjectNames.credentialsSecret(input.clusterName);
  const data = { kubeconfig: base64(input.kubeconfig) };
  const objects: Manifest[] = [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: SecretTypes.remoteKubeconfig,
      metadata: { name, namespace: input.namespace, annotations: { [Annotations.createdBy]: CREATED_BY } },
      data,
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: SecretTypes.remoteKubeconfig,
      metadata: {
        name,
        namespace: input.linkerdNamespace,
        labels: { [Labels.secretClusterName]: input.clusterName },
        annotations: {
          [Annotations.trustDomain]: input.trustDomain,
          [Annotations.clusterDomain]: input.clusterDomain,
          [Annotations.createdBy]: CREATED_BY,
        },
      },
      data,
    },
    renderLink(input),
  ];
  if (input.controller) {
    objects.push(
      ...renderController({
        linkName: input.clusterName,
        namespace: input.namespace,
        ...input.controller,
        probePort: input.gateway?.probe.port,
      }),
    );
  }
  return objects;
}
