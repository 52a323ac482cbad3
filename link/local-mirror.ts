// The local service mirror in the SOURCE and TARGET clusters alike (`install`): it adds the
// cluster's own federated members to `<svc>-federated` (`mirror --local-mirror`), so a federated
// Service spans the local cluster as well as the linked ones. It uses the controllers' shared
// ClusterRole, plus a Role for its Lease and Events.
import { Labels } from '../model/linkerd-names.ts';
import { containerSecurityContext, podEnv, podSecurityContext, tmpMount, tmpVolume } from './controller.ts';
import type { Manifest } from './manifest.ts';
import type { PullPolicy } from './version.ts';
import { CONTROLLER_CLUSTER_ROLE, CREATED_BY, EXTENSION_LABEL, EXTENSION_VALUE } from './version.ts';
import { LEADER_RULES, clusterRoleBinding, roleBinding, serviceAccountSubject } from './rbac.ts';
import { deployment } from './deployment.ts';

export const LOCAL_MIRROR_NAME = 'linkerd-local-service-mirror';

export interface LocalMirrorOptions {
  namespace: string;
  image: string;
  imagePullPolicy: PullPolicy;
  /** Label selector text of federated members (`--federated-service-selector`). */
  federatedSelector: string;
}

export function renderLocalMirror(o: LocalMirrorOptions): Manifest[] {
  const name = LOCAL_MIRROR_NAME;
  const { namespace } = o;
  const selector = { component: 'local-service-mirror' };
  const labels = { [EXTENSION_LABEL]: EXTENSION_VALUE, ...selector };
  const annotations = { 'linkerd.io/created-by': CREATED_BY };
  const subjects = [serviceAccountSubject(name, namespace)];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels, annotations } },
    clusterRoleBinding({ name: `${CONTROLLER_CLUSTER_ROLE}-local`, labels, annotations }, CONTROLLER_CLUSTER_ROLE, subjects),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace, labels, annotations },
      rules: [...LEADER_RULES],
    },
    roleBinding({ name, namespace, labels, annotations }, name, subjects),
    deployment({ name, namespace, labels, annotations }, selector, {
      metadata: { labels },
      spec: {
        serviceAccountName: name,
        securityContext: podSecurityContext(),
        containers: [
          {
            name: 'local-service-mirror',
            image: o.image,
            imagePullPolicy: o.imagePullPolicy,
            args: ['mirror', '--local-mirror', '--namespace', namespace, '--federated-service-selector', o.federatedSelector],
            env: podEnv(),
            ports: [{ name: 'admin', containerPort: 9999 }],
            readinessProbe: { httpGet: { path: '/ready', port: 9999 } },
            livenessProbe: { httpGet: { path: '/live', port: 9999 } },
            securityContext: containerSecurityContext(),
            volumeMounts: [tmpMount],
          },
        ],
        volumes: [tmpVolume],
      },
    }),
  ];
}

export const DEFAULT_FEDERATED_SELECTOR = `${Labels.federated}=member`;
