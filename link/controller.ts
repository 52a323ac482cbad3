// One mirror controller per Link in the SOURCE cluster: ServiceAccount, a binding to the
// shared ClusterRole, a Role scoped to its own credentials Secret, the Deployment, and the
// selectorless probe Service whose Endpoints the controller points at the remote gateway.
import { CONTROLLER_NODE_OPTIONS } from '../model/controller-node-options.ts';
import type { V1Container, V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';
import { Defaults, Labels, ObjectNames } from '../model/linkerd-names.ts';
import type { Manifest } from './manifest.ts';
import { LINK_GROUP, LINK_PLURAL } from '../model/link-types.ts';
import type { PullPolicy } from './version.ts';
import { CONTROLLER_CLUSTER_ROLE, CREATED_BY, EXTENSION_LABEL, EXTENSION_VALUE, INJECT_ANNOTATION } from './version.ts';
import { LEADER_RULES, clusterRoleBinding, roleBinding, serviceAccountSubject } from './rbac.ts';
import { deployment } from './deployment.ts';

export interface ControllerOptions {
  linkName: string;
  namespace: string;
  image: string;
  imagePullPolicy: PullPolicy;
  enableHeadlessServices: boolean;
  enableNamespaceCreation: boolean;
  /** Port of the probe Service; undefined for links without a gateway (no probe Service). */
  probePort: number | undefined;
}

export const RUN_AS_USER = 2103;

export const containerSecurityContext = (): V1SecurityContext => ({
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: RUN_AS_USER,
  runAsGroup: RUN_AS_USER,
  seccompProfile: { type: 'RuntimeDefault' },
});

export const podSecurityContext = (): V1PodSecurityContext => ({ seccompProfile: { type: 'RuntimeDefault' } });

/** tsx caches transpiled sources under the temp dir; the root filesystem is read-only. */
export const tmpVolume = { name: 'tmp', emptyDir: {} };
export const tmpMount = { name: 'tmp', mountPath: '/tmp' };

export const podEnv = (): V1Container['env'] => [
  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  { name: 'NODE_OPTIONS', value: CONTROLLER_NODE_OPTIONS },
];

export function controllerArgs(opts: ControllerOptions): string[] {
  const args = ['mirror', '--link', opts.linkName, '--namespace', opts.namespace];
  if (opts.enableHeadlessServices) args.push('--enable-headless-services');
  if (opts.enableNamespaceCreation) args.push('--enable-namespace-creation');
  return args;
}

export function renderController(opts: ControllerOptions): Manifest[] {
  const { linkName, namespace } = opts;
  const name = ObjectNames.controller(linkName);
  const selector = { component: 'controller', [Labels.clusterName]: linkName };
  const labels = { [EXTENSION_LABEL]: EXTENSION_VALUE, ...selector };
  const annotations = { 'linkerd.io/created-by': CREATED_BY };
  const roleName = `controller-read-remote-creds-${linkName}`;
  const subjects = [serviceAccountSubject(name, namespace)];

  const objects: Manifest[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels, annotations } },
    clusterRoleBinding({ name: `${CONTROLLER_CLUSTER_ROLE}-${linkName}`, labels, annotations }, CONTROLLER_CLUSTER_ROLE, subjects),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: roleName, namespace, labels, annotations },
      rules: [
        { apiGroups: [''], resources: ['secrets'], resourceNames: [ObjectNames.credentialsSecret(linkName)], verbs: ['list', 'get', 'watch'] },
        // update/patch: the controller's finalizer removes mirrors when the Link is deleted.
        { apiGroups: [LINK_GROUP], resources: [LINK_PLURAL], verbs: ['list', 'get', 'watch', 'update', 'patch'] },
        { apiGroups: [LINK_GROUP], resources: [`${LINK_PLURAL}/status`], verbs: ['update', 'patch'] },
        ...LEADER_RULES,
      ],
    },
    roleBinding({ name: roleName, namespace, labels, annotations }, roleName, subjects),
    deployment({ name, namespace, labels, annotations }, selector, {
      metadata: {
        // Meshed like upstream: probes reach the remote gateway through the proxy's mTLS.
        annotations: {
          [INJECT_ANNOTATION]: 'enabled',
          'cluster-autoscaler.kubernetes.io/safe-to-evict': 'true',
          'config.alpha.linkerd.io/proxy-wait-before-exit-seconds': '0',
        },
        labels,
      },
      spec: {
        serviceAccountName: name,
        securityContext: podSecurityContext(),
        containers: [
          {
            name: 'controller',
            image: opts.image,
            imagePullPolicy: opts.imagePullPolicy,
            args: controllerArgs(opts),
            env: podEnv(),
            ports: [{ name: 'ctrl-admin', containerPort: 9999 }],
            securityContext: containerSecurityContext(),
            volumeMounts: [tmpMount],
          },
        ],
        volumes: [tmpVolume],
      },
    }),
  ];
  if (opts.probePort !== undefined) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: ObjectNames.probeService(linkName),
        namespace,
        labels: { [EXTENSION_LABEL]: EXTENSION_VALUE, [Labels.mirroredGateway]: 'true', [Labels.clusterName]: linkName },
        annotations,
      },
      spec: { ports: [{ name: Defaults.probePortName, port: opts.probePort, protocol: 'TCP' }] },
    });
  }
  return objects;
}

/** Stubs for deleting everything `renderController` creates, Deployment first so it stops mirroring. */
export function controllerObjectNames(
  linkName: string,
  namespace: string,
): Array<[apiVersion: string, kind: string, name: string, namespace?: string]> {
  const name = ObjectNames.controller(linkName);
  const roleName = `controller-read-remote-creds-${linkName}`;
  return [
    ['apps/v1', 'Deployment', name, namespace],
    ['v1', 'Service', ObjectNames.probeService(linkName), namespace],
    ['rbac.authorization.k8s.io/v1', 'RoleBinding', roleName, namespace],
    ['rbac.authorization.k8s.io/v1', 'Role', roleName, namespace],
    ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', `${CONTROLLER_CLUSTER_ROLE}-${linkName}`],
    ['v1', 'ServiceAccount', name, namespace],
    ['coordination.k8s.io/v1', 'Lease', ObjectNames.lease(linkName), namespace],
  ];
}
