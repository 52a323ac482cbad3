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
    handle: (k) => {
      if (k === 'flaky' && failures-- > 0) return Promise.reject(new RetryableError('apiserver unavailable'));
      if (k === 'taken') return Promise.reject(new NameCollisionError('web-cluster2 exists and is not a mirror'));
      return Promise.resolve();
    },
    onOutcome: (k, o) => outcomes.push([k, o.kind]),
  });
  q.add('flaky');
  q.add('taken');
  await q.idle();
  assert.deepEqual(
    outcomes.filter(([k]) => k === 'flaky').map(([, o]) => o),
    ['retry', 'retry', 'done'],
  );
  assert.deepEqual(
    outcomes.filter(([k]) => k === 'taken').map(([, o]) => o),
    ['failed'],
  );
});

/** A queue whose `workers` first keys (named blocker…) hold every worker until release(). */
function blockedQueue(workers: number): { q: WorkQueue<string>; runs: string[]; release: () => void } {
  const runs: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const q = new WorkQueue<string>({
    workers,
    handle: async (k) => {
      if (k.startsWith('blocker')) await gate;
      else runs.push(k);
    },
  });
  for (let i = 0; i < workers; i++) q.add(`blocker${i}`);
  return { q, runs, release };
}

test('event keys run before background keys, and an event promotes a queued background key', async () => {
  const { q, runs, release } = blockedQueue(1);
  q.add('bg1', 'background');
  q.add('bg2', 'background');
  q.add('ev1');
  q.add('bg2');
  q.add('ev1', 'background');
  assert.equal(q.depth, 3);
  release();
  await q.idle();
  assert.deepEqual(runs, ['ev1', 'bg2', 'bg1']);
  assert.equal(q.depth, 0);
});

test('a long stream of keys through a busy queue runs each once, events first', async () => {
  const { q, runs, release } = blockedQueue(2);
  for (let i = 0; i < 5000; i++) q.add(`k${i}`, i % 2 ? 'background' : 'event');
  release();
  await q.idle();
  assert.equal(runs.length, 5000);
  assert.equal(new Set(runs).size, 5000);
  assert.ok(
    runs.slice(0, 2500).every((k) => Number(k.slice(1)) % 2 === 0),
    'every event key before any background key',
  );
});

test('a run counts from the first add since the previous run began, not from later adds', async () => {
  const now = () => performance.timeOrigin + performance.now();
  const timings: Array<{ key: string; queuedAt: number; startedAt: number }> = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const q = new WorkQueue<string>({
    workers: 1,
    handle: async (key, t) => {
      timings.push({ key, ...t });
      if (key === 'blocker' && timings.length === 1) await gate;
    },
  });
  q.add('blocker');
  const firstAdd = now();
  q.add('a');
  await new Promise((r) => setTimeout(r, 5));
  const laterAdd = now();
  q.add('a');
  q.add('blocker'); // while it runs: it runs again, counted from this add
  release();
  await q.idle();
  const a = timings.find((t) => t.key === 'a');
  assert.ok(a);
  assert.ok(a.queuedAt >= firstAdd && a.queuedAt < laterAdd, 'counted from the first add');
  assert.ok(a.startedAt >= a.queuedAt);
  const reruns = timings.filter((t) => t.key === 'blocker');
  assert.equal(reruns.length, 2);
  assert.ok(reruns[1]!.queuedAt >= laterAdd, 'the re-run counts from the add made during the first run');
});
