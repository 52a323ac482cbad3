// `install --control-plane`: for a cluster without Linkerd, our own identity and destination
// services in Linkerd's namespace, under Linkerd's object names (linkerd-identity-issuer,
// linkerd-identity-trust-roots, linkerd-config), so `link`, `check` and proxies find them
// where they would find Linkerd's.
import type { V1PolicyRule, V1Volume } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { containerSecurityContext, podEnv, podSecurityContext, tmpMount, tmpVolume } from './controller.ts';
import type { Manifest } from './manifest.ts';
import type { PullPolicy } from './version.ts';
import { CREATED_BY, INJECT_ANNOTATION } from './version.ts';
import { clusterRoleBinding, serviceAccountSubject } from './rbac.ts';

export const IDENTITY_PORT = 8080;
export const IDENTITY_ADMIN_PORT = 9990;
export const DESTINATION_PORT = 8086;
export const DESTINATION_ADMIN_PORT = 9996;
export const ISSUER_SECRET = 'linkerd-identity-issuer';
export const TRUST_ROOTS_CONFIGMAP = 'linkerd-identity-trust-roots';
export const LINKERD_CONFIG = 'linkerd-config';
const ISSUER_DIR = '/var/run/linkerd/identity/issuer';
const TRUST_ROOTS_DIR = '/var/run/linkerd/identity/trust-roots';

export interface ControlPlaneOptions {
  linkerdNamespace: string;
  trustDomain: string;
  clusterDomain: string;
  image: string;
  imagePullPolicy: PullPolicy;
  trustAnchorsPem: string;
  issuerCertPem: string;
  issuerKeyPem: string;
}

const annotations = { 'linkerd.io/created-by': CREATED_BY };
const labels = (component: string, ns: string) => ({ 'linkerd.io/control-plane-component': component, 'linkerd.io/control-plane-ns': ns });

export function renderControlPlane(o: ControlPlaneOptions): Manifest[] {
  const ns = o.linkerdNamespace;
  const values = { identityTrustDomain: o.trustDomain, clusterDomain: o.clusterDomain, identityTrustAnchorsPEM: o.trustAnchorsPem };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'linkerd.io/is-control-plane': 'true' }, annotations } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: LINKERD_CONFIG, namespace: ns, annotations }, data: { values: stringify(values) } },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: TRUST_ROOTS_CONFIGMAP, namespace: ns, annotations },
      data: { 'ca-bundle.crt': o.trustAnchorsPem },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: ISSUER_SECRET, namespace: ns, annotations },
      stringData: { 'tls.crt': o.issuerCertPem, 'tls.key': o.issuerKeyPem, 'ca.crt': o.trustAnchorsPem },
    },
    ...renderIdentity(o),
    ...renderDestination(o),
  ];
}

function renderIdentity(o: ControlPlaneOptions): Manifest[] {
  const ns = o.linkerdNamespace;
  const name = 'linkerd-identity';
  const args = [
    'identity',
    '--listen',
    `0.0.0.0:${IDENTITY_PORT}`,
    '--admin-listen',
    `0.0.0.0:${IDENTITY_ADMIN_PORT}`,
    '--issuer-cert',
    `${ISSUER_DIR}/tls.crt`,
    '--issuer-key',
    `${ISSUER_DIR}/tls.key`,
    '--trust-anchors',
    `${TRUST_ROOTS_DIR}/ca-bundle.crt`,
    '--trust-domain',
    o.trustDomain,
    '--control-namespace',
    ns,
  ];
  return [
    ...serviceAccountWithRole(name, ns, [
      // TokenReview is how a proxy's ServiceAccount token is authenticated.
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ]),
    deployment(name, ns, 'identity', o, args, IDENTITY_ADMIN_PORT, [
      { name: 'issuer', mount: ISSUER_DIR, volume: { secret: { secretName: ISSUER_SECRET } } },
      { name: 'trust-roots', mount: TRUST_ROOTS_DIR, volume: { configMap: { name: TRUST_ROOTS_CONFIGMAP } } },
    ]),
    service(name, ns, 'identity', [{ name: 'grpc', port: IDENTITY_PORT }]),
  ];
}

function renderDestination(o: ControlPlaneOptions): Manifest[] {
  const ns = o.linkerdNamespace;
  const name = 'linkerd-destination';
  const args = [
    'destination',
    '--listen',
    `0.0.0.0:${DESTINATION_PORT}`,
    '--admin-listen',
    `0.0.0.0:${DESTINATION_ADMIN_PORT}`,
    '--control-namespace',
    ns,
    '--cluster-domain',
    o.clusterDomain,
    '--trust-domain',
    o.trustDomain,
  ];
  return [
    ...serviceAccountWithRole(name, ns, [
      { apiGroups: [''], resources: ['services', 'endpoints', 'pods', 'namespaces'], verbs: ['list', 'get', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'get', 'watch'] },
      // Remote clusters' kubeconfigs: the Secrets `link` writes in Linkerd's namespace.
      { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'get', 'watch'] },
    ]),
    deployment(name, ns, 'destination', o, args, DESTINATION_ADMIN_PORT, []),
    // Linkerd's proxies are configured with linkerd-dst; the name stays the same here.
    service('linkerd-dst', ns, 'destination', [{ name: 'grpc', port: DESTINATION_PORT }]),
  ];
}

function serviceAccountWithRole(name: string, ns: string, rules: V1PolicyRule[]): Manifest[] {
  const subjects = [serviceAccountSubject(name, ns)];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns, annotations } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `${name}-${ns}`, annotations }, rules },
    clusterRoleBinding({ name: `${name}-${ns}`, annotations }, `${name}-${ns}`, subjects),
  ];
}

interface Mount {
  name: string;
  mount: string;
  volume: Omit<V1Volume, 'name'>;
}

function deployment(
  name: string,
  ns: string,
  component: string,
  o: ControlPlaneOptions,
  args: string[],
  adminPort: number,
  mounts: Mount[],
): Manifest {
  const selector = { 'linkerd.io/control-plane-component': component };
  const probe = (path: string) => ({ httpGet: { path, port: adminPort }, periodSeconds: 5, failureThreshold: 3 });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: labels(component, ns), annotations },
    spec: {
      replicas: 1,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...labels(component, ns), ...selector }, annotations: { [INJECT_ANNOTATION]: 'disabled' } },
        spec: {
          serviceAccountName: name,
          securityContext: podSecurityContext(),
          containers: [
            {
              name: component,
              image: o.image,
              imagePullPolicy: o.imagePullPolicy,
              args,
              env: podEnv(),
              ports: [{ name: 'admin', containerPort: adminPort, protocol: 'TCP' }],
              readinessProbe: probe('/ready'),
              livenessProbe: probe('/live'),
              securityContext: containerSecurityContext(),
              volumeMounts: [tmpMount, ...mounts.map((m) => ({ name: m.name, mountPath: m.mount, readOnly: true }))],
            },
          ],
          volumes: [tmpVolume, ...mounts.map((m) => ({ name: m.name, ...m.volume }))],
        },
      },
    },
  };
}

function service(name: string, ns: string, component: string, ports: { name: string; port: number }[]): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels: labels(component, ns), annotations },
    spec: {
      selector: { 'linkerd.io/control-plane-component': component },
      ports: ports.map((p) => ({ ...p, targetPort: p.port, protocol: 'TCP' })),
    },
  };
}
