// The Deployment envelope every extension workload shares: one replica, ten old ReplicaSets kept,
// selected by `selector`. What runs inside (the pod template) is each manifest's own.
import type { V1Deployment, V1ObjectMeta, V1PodTemplateSpec } from '@kubernetes/client-node';

export function deployment(
  metadata: V1ObjectMeta,
  selector: Record<string, string>,
  template: V1PodTemplateSpec,
): V1Deployment & { apiVersion: string; kind: string; metadata: V1ObjectMeta } {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: { replicas: 1, revisionHistoryLimit: 10, selector: { matchLabels: selector }, template },
  };
}
