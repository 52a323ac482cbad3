// What a failing key leaves behind: status entries, Events, and no tight loop or silent drop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKey, eventKey, type MirrorEvent } from './events.ts';
import { Harness, remoteService } from './reconcile-harness.ts';
import { REPORT_AFTER_ATTEMPTS } from './outcome-reporter.ts';
import { RetryableError } from './errors.ts';

test('a key that keeps failing is reported in the Link status and as an Event once it has failed a few times', async () => {
  const h = new Harness();
  h.exportService(remoteService('flaky'));
  const ensure = h.local.ensureService.bind(h.local);
  const create = h.local.createMirror.bind(h.local);
  h.local.ensureService = () => Promise.reject(new RetryableError('create Service web/flaky-east: etcdserver: request timed out'));
  h.local.createMirror = () => Promise.reject(new RetryableError('create Service web/flaky-east: etcdserver: request timed out'));
  for (let attempt = 1; attempt <= REPORT_AFTER_ATTEMPTS; attempt++) {
    if (attempt > 1) h.ctx.enqueue({ kind: 'ServiceChanged', namespace: 'web', name: 'flaky' });
    assert.deepEqual(await h.step(), { key: 'svc:web/flaky', outcome: 'retry' });
    const reported = attempt >= REPORT_AFTER_ATTEMPTS;
    assert.equal(h.status.reason('web', 'flaky'), reported ? 'Error' : undefined, `attempt ${attempt}`);
    assert.equal(
      h.events.some((e) => e.reason === 'ReconcileFailing'),
      reported,
    );
  }
  assert.match(h.status.entries.get('mirrorServices web/flaky')?.message ?? '', /still retrying \(attempt 3\): .*request timed out/);
  h.local.ensureService = ensure;
  h.local.createMirror = create;
  h.ctx.enqueue({ kind: 'ServiceChanged', namespace: 'web', name: 'flaky' });
  await h.drain();
  assert.equal(h.status.reason('web', 'flaky'), 'Mirrored', 'success replaces the error');
});

test('a bug in a reconcile is retried and reported like any failure', async () => {
  const h = new Harness();
  h.exportService(remoteService('buggy'));
  h.local.createMirror = () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'x')"));
  let last;
  for (let attempt = 1; attempt <= REPORT_AFTER_ATTEMPTS; attempt++) {
    h.ctx.enqueue({ kind: 'ServiceChanged', namespace: 'web', name: 'buggy' });
    last = await h.step();
  }
  assert.deepEqual(last, { key: 'svc:web/buggy', outcome: 'crashed' });
  assert.equal(h.status.reason('web', 'buggy'), 'Error');
  assert.ok(h.logs.some((l) => l.includes('reconcile crashed; will retry')));
});

test('every event kind survives a round trip through its key', () => {
  const events: MirrorEvent[] = [
    { kind: 'ServiceChanged', namespace: 'web', name: 'api' },
    { kind: 'FederatedChanged', namespace: 'web', name: 'api' },
    { kind: 'NamespaceCreated', namespace: 'web' },
    { kind: 'GatewayChanged' },
    { kind: 'OrphanSweep' },
  ];
  for (const e of events) assert.deepEqual(decodeKey(eventKey(e)), e);
});

test('a key no event makes does not decode (it is logged once and dropped, not taken for a Service)', () => {
  for (const key of ['', 'svc:', 'svc:web', 'svc:web/', 'svc:/api', 'svc:a/b/c', 'fed:web', 'ns:', 'ns:a/b', 'gateways', 'pod:web/x']) {
    assert.equal(decodeKey(key), undefined, key);
  }
});
