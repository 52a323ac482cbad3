// Read-only access for mirror controllers in OTHER clusters (`allow`, and `install` for the
// default account). Everything here is what a remote service mirror and destination read,
// plus the trust roots `multicluster check` compares through the Link's credentials.
import { TRUST_ROOTS_CONFIGMAP } from './check-trust.ts';
import type { Manifest } from './manifest.ts';
import { CREATED_BY, EXTENSION_LABEL, EXTENSION_VALUE, SA_NAME_ANNOTATION, SA_TOKEN_SECRET_TYPE } from './version.ts';
import { clusterRoleBinding, serviceAccountSubject } from './rbac.ts';

export interface RemoteAccessOptions {
  serviceAccountName: string;
  namespace: string;
  linkerdConfigMap?: string;
}

export function renderRemoteAccess(opts: RemoteAccessOptions): Manifest[] {
  const { serviceAccountName: sa, namespace } = opts;
  const labels = { [EXTENSION_LABEL]: EXTENSION_VALUE };
  const annotations = { 'linkerd.io/created-by': CREATED_BY };
  const read = ['list', 'get', 'watch'];
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: sa, labels, annotations },
      rules: [
        { apiGroups: ['apps'], resources: ['replicasets'], verbs: read },
        { apiGroups: ['batch'], resources: ['jobs'], verbs: read },
        { apiGroups: [''], resources: ['pods', 'endpoints', 'services'], verbs: read },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
        { apiGroups: ['policy.linkerd.io'], resources: ['servers'], verbs: read },
        {
          apiGroups: [''],
          resources: ['configmaps'],
          verbs: ['get'],
          resourceNames: [opts.linkerdConfigMap ?? 'linkerd-config', TRUST_ROOTS_CONFIGMAP],
        },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      ],
    },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: sa, namespace, labels, annotations },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: SA_TOKEN_SECRET_TYPE,
      metadata: { name: `${sa}-token`, namespace, labels, annotations: { [SA_NAME_ANNOTATION]: sa, ...annotations } },
    },
    clusterRoleBinding({ name: sa, labels, annotations }, sa, [serviceAccountSubject(sa, namespace)]),
  ];
}

/** `multicluster allow`: the namespace plus the remote-access objects. */
export function renderAllow(opts: RemoteAccessOptions): Manifest[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: opts.namespace, labels: { [EXTENSION_LABEL]: EXTENSION_VALUE } },
    },
    ...renderRemoteAccess(opts),
  ];
}
