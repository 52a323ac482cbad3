// The Pod status a kubelet would report for what the dev agent runs: phase, conditions and
// container statuses. Condition transition times are kept from the previous status while a
// condition's value does not change, as the kubelet does.
import type { V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import type { ContainerView } from './container-runner.ts';

export interface PodStatusInput {
  pod: V1Pod;
  podIp: string;
  hostIp: string;
  startTime: Date;
  containers: readonly ContainerView[];
  /** The sandbox (network namespace, volumes) is set up. */
  sandboxReady: boolean;
  now: Date;
}

export function podStatus(i: PodStatusInput): V1PodStatus {
  const policy = i.pod.spec?.restartPolicy ?? 'Always';
  const images = new Map((i.pod.spec?.containers ?? []).map((c) => [c.name, c.image ?? '']));
  const allReady = i.containers.length > 0 && i.containers.every((c) => c.ready);
  const everStarted = i.containers.some((c) => c.state.running || c.state.terminated || c.lastState.terminated);
  const allDone = i.containers.length > 0 && i.containers.every((c) => c.state.terminated);
  let phase: string = everStarted ? 'Running' : 'Pending';
  if (allDone && policy !== 'Always') phase = i.containers.every((c) => c.state.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
  const previous = new Map((i.pod.status?.conditions ?? []).map((c) => [c.type, c]));
  const condition = (type: string, ok: boolean, reason?: string): V1PodCondition => {
    const status = ok ? 'True' : 'False';
    const prev = previous.get(type);
    return {
      type,
      status,
      lastTransitionTime: prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : i.now,
      ...(ok || !reason ? {} : { reason }),
    };
  };
  return {
    phase,
    hostIP: i.hostIp,
    hostIPs: [{ ip: i.hostIp }],
    podIP: i.podIp,
    podIPs: [{ ip: i.podIp }],
    startTime: i.startTime,
    conditions: [
      condition('PodReadyToStartContainers', i.sandboxReady),
      condition('Initialized', true),
      condition('Ready', allReady, 'ContainersNotReady'),
      condition('ContainersReady', allReady, 'ContainersNotReady'),
      condition('PodScheduled', true),
    ],
    containerStatuses: i.containers.map((c) => ({
      name: c.name,
      image: images.get(c.name) ?? '',
      imageID: images.get(c.name) ?? '',
      ...(c.pid !== undefined ? { containerID: `dev-agent://${c.pid}` } : {}),
      ready: c.ready,
      started: c.started,
      restartCount: c.restartCount,
      state: c.state,
      lastState: c.lastState,
    })),
  };
}
