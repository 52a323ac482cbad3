// The target cluster's gateway: a Deployment running `multicluster gateway` and the Service
// whose annotations and ports `multicluster link` reads back into the Link.
import { Annotations, Defaults, workloadIdentity } from '../model/linkerd-names.ts';
import { containerSecurityContext, podSecurityContext, tmpMount, tmpVolume } from './controller.ts';
import type { Manifest } from './manifest.ts';
import type { PullPolicy } from './version.ts';
import { CREATED_BY, EXTENSION_LABEL, EXTENSION_VALUE, INJECT_ANNOTATION } from './version.ts';

export type GatewayServiceType = 'LoadBalancer' | 'NodePort' | 'ClusterIP';
export const GATEWAY_SERVICE_TYPES: readonly GatewayServiceType[] = ['LoadBalancer', 'NodePort', 'ClusterIP'];

export interface GatewayOptions {
  name: string;
  namespace: string;
  linkerdNamespace: string;
  identityTrustDomain: string;
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

export function renderGateway(opts: GatewayOptions): Manifest[] {
  const { name, namespace } = opts;
  const identity = workloadIdentity(name, namespace, opts.linkerdNamespace, opts.identityTrustDomain);
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
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
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
      spec: {
        replicas: 1,
        revisionHistoryLimit: 10,
        selector: { matchLabels: selector },
        template: {
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
                args: ['gateway'],
                env: [
                  { name: 'MC_GATEWAY_IDENTITY', value: identity },
                  { name: 'MC_GATEWAY_PROBE_PATH', value: opts.probe.path },
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                ],
                ports: [
                  { name: Defaults.gatewayPortName, containerPort: GATEWAY_CONTAINER_PORT, protocol: 'TCP' },
                  { name: Defaults.probePortName, containerPort: PROBE_CONTAINER_PORT, protocol: 'TCP' },
                ],
                securityContext: containerSecurityContext(),
                volumeMounts: [tmpMount],
              },
            ],
            volumes: [tmpVolume],
          },
        },
      },
    },
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
