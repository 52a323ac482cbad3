import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NameCollisionError, RetryableError } from './errors.ts';
import { WorkQueue, type Outcome } from './work-queue.ts';

test('a key added many times while queued runs once', async () => {
  const runs: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const q = new WorkQueue<string>({
    workers: 1,
    handle: async (k) => {
      runs.push(k);
      if (k === 'blocker') await gate;
    },
  });
  q.add('blocker');
  q.add('a');
  q.add('a');
  q.add('b');
  q.add('a');
  release();
  await q.idle();
  assert.deepEqual(runs, ['blocker', 'a', 'b']);
});

test('the same key never runs concurrently, and a change during a run re-runs it after', async () => {
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const q = new WorkQueue<string>({
    workers: 4,
    handle: async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      runs++;
      if (runs === 1) await gate;
      active--;
    },
  });
  q.add('k');
  await new Promise((r) => setImmediate(r));
  q.add('k');
  q.add('k');
  release();
  await q.idle();
  assert.equal(maxActive, 1);
  assert.equal(runs, 2);
});

test('retryable errors are retried until they succeed; permanent errors are reported once', async () => {
  const outcomes: Array<[string, Outcome['kind']]> = [];
  let failures = 2;
  const q = new WorkQueue<string>({
    workers: 2,
    baseDelayMs: 1,
    handle: async (k) => {
      if (k === 'flaky' && failures-- > 0) throw new RetryableError('apiserver unavailable');
      if (k === 'taken') throw new NameCollisionError('web-cluster2 exists and is not a mirror');
    },
    onOutcome: (k, o) => outcomes.push([k, o.kind]),
  });
  q.add('flaky');
  q.add('taken');
  await q.idle();
  assert.deepEqual(outcomes.filter(([k]) => k === 'flaky').map(([, o]) => o), ['retry', 'retry', 'done']);
  assert.deepEqual(outcomes.filter(([k]) => k === 'taken').map(([, o]) => o), ['failed']);
});
