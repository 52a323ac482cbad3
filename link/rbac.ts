// RBAC bindings as every manifest renders them: a name (and namespace), the role, the subjects.
import type { RbacV1Subject, V1ClusterRoleBinding, V1ObjectMeta, V1PolicyRule, V1RoleBinding } from '@kubernetes/client-node';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

type Bound<T> = T & { apiVersion: string; kind: string; metadata: V1ObjectMeta };

export function clusterRoleBinding(metadata: V1ObjectMeta, clusterRole: string, subjects: RbacV1Subject[]): Bound<V1ClusterRoleBinding> {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata,
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: clusterRole },
    subjects,
  };
}

export function roleBinding(metadata: V1ObjectMeta, role: string, subjects: RbacV1Subject[]): Bound<V1RoleBinding> {
  return { apiVersion: `${RBAC_GROUP}/v1`, kind: 'RoleBinding', metadata, roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: role }, subjects };
}

/** The one subject of most bindings: a ServiceAccount. */
export function serviceAccountSubject(name: string, namespace: string): RbacV1Subject {
  return { kind: 'ServiceAccount', name, namespace };
}

/** What a leader-elected controller needs in its own namespace: its Lease, and Events about what it did. */
export const LEADER_RULES: readonly V1PolicyRule[] = Object.freeze([
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'update', 'patch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
]);
