import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { ContainerView } from './container-runner.ts';
import { podStatus } from './pod-status.ts';

const earlier = new Date('2026-01-01T00:00:00Z');
const now = new Date('2026-01-01T00:01:00Z');
const pod = (restartPolicy?: string, ready?: string): V1Pod => ({
  metadata: { name: 'p', namespace: 'n' },
  spec: { restartPolicy, containers: [{ name: 'main', image: 'img:1' }] },
  status: ready ? { conditions: [{ type: 'Ready', status: ready, lastTransitionTime: earlier }] } : {},
});
const view = (v: Partial<ContainerView>): ContainerView => ({
  name: 'main',
  ready: false,
  started: false,
  restartCount: 0,
  state: { waiting: { reason: 'ContainerCreating' } },
  lastState: {},
  ...v,
});
const status = (p: V1Pod, c: ContainerView) =>
  podStatus({ pod: p, podIp: '10.23.1.2', hostIp: '172.30.0.1', startTime: earlier, containers: [c], sandboxReady: true, now });
const cond = (s: ReturnType<typeof status>, type: string) => s.conditions?.find((c) => c.type === type);

describe('pod status', () => {
  it('is Pending until a container has started, then Running; Ready follows the containers', () => {
    assert.equal(status(pod(), view({})).phase, 'Pending');
    const running = status(pod(), view({ state: { running: { startedAt: now } }, ready: true, pid: 42 }));
    assert.equal(running.phase, 'Running');
    assert.equal(cond(running, 'Ready')?.status, 'True');
    assert.equal(cond(running, 'ContainersReady')?.status, 'True');
    assert.equal(running.podIP, '10.23.1.2');
    assert.equal(running.containerStatuses?.[0]?.image, 'img:1');
    assert.equal(running.containerStatuses?.[0]?.containerID, 'dev-agent://42');
    const notReady = status(pod(), view({ state: { running: { startedAt: now } }, ready: false }));
    assert.equal(cond(notReady, 'Ready')?.status, 'False');
    assert.equal(cond(notReady, 'Ready')?.reason, 'ContainersNotReady');
  });

  it('keeps a condition transition time while its value holds', () => {
    const c = view({ state: { running: { startedAt: now } }, ready: true });
    assert.deepEqual(cond(status(pod(undefined, 'True'), c), 'Ready')?.lastTransitionTime, earlier);
    assert.deepEqual(cond(status(pod(undefined, 'False'), c), 'Ready')?.lastTransitionTime, now);
  });

  it('a finished container ends the pod only when it is not restarted', () => {
    const done = view({ state: { terminated: { exitCode: 0 } } });
    assert.equal(status(pod('Never'), done).phase, 'Succeeded');
    assert.equal(status(pod('OnFailure'), view({ state: { terminated: { exitCode: 1 } } })).phase, 'Failed');
    assert.equal(status(pod('Always'), done).phase, 'Running');
  });
});
