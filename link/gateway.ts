// The target cluster's gateway: a Deployment running `multicluster gateway` and the Service
// whose annotations and ports `multicluster link` reads back into the Link.
import { Annotations, Defaults, workloadIdentity } from '../model/linkerd-names.ts';
import { containerSecurityContext, podSecurityContext, tmpMount, tmpVolume } from './controller.ts';
import type { Manifest } from './manifest.ts';
import type { PullPolicy } from './version.ts';
import { CREATED_BY, EXTENSION_LABEL, EXTENSION_VALUE, INJECT_ANNOTATION } from './version.ts';
import { clusterRoleBinding, serviceAccountSubject } from './rbac.ts';
import { deployment } from './deployment.ts';

export type GatewayServiceType = 'LoadBalancer' | 'NodePort' | 'ClusterIP';
export const GATEWAY_SERVICE_TYPES: readonly GatewayServiceType[] = ['LoadBalancer', 'NodePort', 'ClusterIP'];

export interface GatewayOptions {
  name: string;
  namespace: string;
  linkerdNamespace: string;
  identityTrustDomain: string;
  clusterDomain: string;
  image: string;
  imagePullPolicy: PullPolicy;
  serviceType: GatewayServiceType;
  port: number;
  nodePort?: number;
  loadBalancerIP?: string;
  probe: { port: number; nodePort?: number; path: string; seconds: number };
}

/** The container always listens on the defaults; the Service maps its ports onto them by name. */
export const GATEWAY_CONTAINER_PORT = Defaults.gatewayPort;
export const PROBE_CONTAINER_PORT = Defaults.probePort;

/** Where the gateway finds the trust anchors: a ConfigMap of this name in its own namespace. */
export const GATEWAY_TRUST_ROOTS_CONFIGMAP = 'linkerd-identity-trust-roots';
const TOKEN_DIR = '/var/run/secrets/tokens';
const TOKEN_FILE = 'linkerd-identity-token';
const TRUST_ROOTS_DIR = '/var/run/linkerd/identity/trust-roots';
const IDENTITY_PORT = 8080;
const TOKEN_SECONDS = 86400;

/** `multicluster gateway`'s arguments: its identity comes from the identity service, as a meshed pod's does. */
export function gatewayArgs(opts: GatewayOptions, identity: string): string[] {
  const ns = opts.linkerdNamespace;
  return [
    'gateway',
    '--identity',
    identity,
    '--identity-addr',
    `linkerd-identity.${ns}.svc.${opts.clusterDomain}:${IDENTITY_PORT}`,
    '--identity-server-name',
    workloadIdentity('linkerd-identity', ns, ns, opts.identityTrustDomain),
    '--identity-token-file',
    `${TOKEN_DIR}/${TOKEN_FILE}`,
    '--trust-anchors',
    `${TRUST_ROOTS_DIR}/ca-bundle.crt`,
    '--cluster-domain',
    opts.clusterDomain,
  ];
}

export function renderGateway(opts: GatewayOptions): Manifest[] {
  const { name, namespace } = opts;
  const identity = workloadIdentity(name, namespace, opts.linkerdNamespace, opts.identityTrustDomain);
  const probe = (path: string) => ({ httpGet: { path, port: Defaults.probePortName }, periodSeconds: 5, failureThreshold: 3 });
  const selector = { [EXTENSION_LABEL]: EXTENSION_VALUE, app: name };
  const createdBy = { 'linkerd.io/created-by': CREATED_BY };
  const withNodePorts = opts.serviceType !== 'ClusterIP';
  const servicePort = (portName: string, port: number, nodePort: number | undefined) => ({
    name: portName,
    port,
    protocol: 'TCP',
    targetPort: portName,
    ...(withNodePorts && nodePort !== undefined ? { nodePort } : {}),
  });
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace, labels: { [EXTENSION_LABEL]: EXTENSION_VALUE } },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: `${name}-${namespace}`, labels: { [EXTENSION_LABEL]: EXTENSION_VALUE } },
      // The gateway resolves the names it forwards to from a watch of Services and EndpointSlices.
      rules: [
        { apiGroups: [''], resources: ['services'], verbs: ['list', 'get', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'get', 'watch'] },
      ],
    },
    clusterRoleBinding({ name: `${name}-${namespace}`, labels: { [EXTENSION_LABEL]: EXTENSION_VALUE } }, `${name}-${namespace}`, [
      serviceAccountSubject(name, namespace),
    ]),
    deployment(
      {
        name,
        namespace,
        labels: {
          ...selector,
          'app.kubernetes.io/name': 'gateway',
          'app.kubernetes.io/part-of': 'Linkerd',
          'linkerd.io/control-plane-component': 'gateway',
        },
        annotations: createdBy,
      },
      selector,
      {
        metadata: {
          // The gateway terminates mTLS itself; a proxy in front of it would do the same job twice.
          annotations: { [INJECT_ANNOTATION]: 'disabled' },
          labels: selector,
        },
        spec: {
          serviceAccountName: name,
          securityContext: podSecurityContext(),
          containers: [
            {
              name: 'gateway',
              image: opts.image,
              imagePullPolicy: opts.imagePullPolicy,
              args: gatewayArgs(opts, identity),
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              ],
              readinessProbe: probe('/ready'),
              livenessProbe: probe('/live'),
              ports: [
                { name: Defaults.gatewayPortName, containerPort: GATEWAY_CONTAINER_PORT, protocol: 'TCP' },
                { name: Defaults.probePortName, containerPort: PROBE_CONTAINER_PORT, protocol: 'TCP' },
              ],
              securityContext: containerSecurityContext(),
              volumeMounts: [
                tmpMount,
                { name: 'identity-token', mountPath: TOKEN_DIR, readOnly: true },
                { name: 'trust-roots', mountPath: TRUST_ROOTS_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [
            tmpVolume,
            {
              name: 'identity-token',
              projected: {
                sources: [{ serviceAccountToken: { audience: 'identity.l5d.io', expirationSeconds: TOKEN_SECONDS, path: TOKEN_FILE } }],
              },
            },
            { name: 'trust-roots', configMap: { name: GATEWAY_TRUST_ROOTS_CONFIGMAP } },
          ],
        },
      },
    ),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name,
        namespace,
        labels: { [EXTENSION_LABEL]: EXTENSION_VALUE },
        annotations: {
          [Annotations.gatewayIdentity]: identity,
          [Annotations.probePeriod]: String(opts.probe.seconds),
          [Annotations.probePath]: opts.probe.path,
          'mirror.linkerd.io/multicluster-gateway': 'true',
          'linkerd.io/control-plane-component': 'gateway',
          ...createdBy,
        },
      },
      spec: {
        type: opts.serviceType,
        ...(opts.loadBalancerIP && opts.serviceType === 'LoadBalancer' ? { loadBalancerIP: opts.loadBalancerIP } : {}),
        selector: { app: name },
        ports: [
          servicePort(Defaults.gatewayPortName, opts.port, opts.nodePort),
          servicePort(Defaults.probePortName, opts.probe.port, opts.probe.nodePort),
        ],
      },
    },
  ];
}
