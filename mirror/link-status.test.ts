import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../log/logger.ts';
import { LinkStatusWriter, MAX_STATUS_ENTRIES, bounded, serviceStatus, type MirrorEntry } from './link-status.ts';

function writer(now: () => Date): LinkStatusWriter {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return new LinkStatusWriter(kc, 'ns', 'link', createLogger({ level: 'error' }), 60_000, now);
}

test('lastTransitionTime moves only when status or reason changes', () => {
  let t = new Date('2026-01-01T00:00:00Z');
  const w = writer(() => t);
  const ref = { namespace: 'web', name: 'svc' };
  w.setMirror(ref, { namespace: 'web', name: 'svc-c' }, 'Error', 'first');
  const first = w.mirrorCondition(ref)?.lastTransitionTime;
  t = new Date('2026-01-01T00:05:00Z');
  w.setMirror(ref, { namespace: 'web', name: 'svc-c' }, 'Error', 'second message, same reason');
  assert.equal(w.mirrorCondition(ref)?.lastTransitionTime, first);
  assert.equal(w.mirrorCondition(ref)?.message, 'second message, same reason');
  t = new Date('2026-01-01T00:10:00Z');
  w.setMirror(ref, { namespace: 'web', name: 'svc-c' }, 'Mirrored', '');
  assert.equal(w.mirrorCondition(ref)?.lastTransitionTime, '2026-01-01T00:10:00Z');
  assert.equal(w.mirrorCondition(ref)?.status, 'True');
  w.stop();
});

test('a long status list is capped, keeping every failing service', () => {
  const entries = new Map<string, MirrorEntry>();
  for (let i = 0; i < MAX_STATUS_ENTRIES * 2; i++) {
    const ok = i % 100 !== 99;
    entries.set(`web/s${String(i).padStart(5, '0')}`, { reason: ok ? 'Mirrored' : 'Error', message: '', since: '2026-01-01T00:00:00Z' });
  }
  const out = bounded(entries);
  assert.equal(out.length, MAX_STATUS_ENTRIES);
  const failing = [...entries.entries()].filter(([, e]) => e.reason !== 'Mirrored');
  assert.equal(failing.length, (MAX_STATUS_ENTRIES * 2) / 100);
  for (const [key] of failing)
    assert.ok(
      out.some(([k]) => k === key),
      `${key} kept`,
    );
  const small = new Map([...entries.entries()].slice(0, 3));
  assert.equal(bounded(small).length, 3);
});

test("an entry renders as upstream's status shape", () => {
  assert.deepEqual(serviceStatus('web/api', { reason: 'NameCollision', message: 'taken', since: '2026-01-01T00:00:00Z', local: 'api-east' }), {
    controllerName: 'linkerd.io/service-mirror',
    remoteRef: { group: '', kind: 'Service', namespace: 'web', name: 'api' },
    conditions: [
      {
        type: 'Mirrored',
        status: 'False',
        reason: 'NameCollision',
        message: 'taken',
        lastTransitionTime: '2026-01-01T00:00:00Z',
        localRef: { group: '', kind: 'Service', namespace: 'web', name: 'api-east' },
      },
    ],
  });
});

/** A stand-in API server endpoint for status patches: records each PATCH body. */
async function withStatusServer(fn: (w: LinkStatusWriter, patches: string[]) => Promise<void>, status = 200): Promise<void> {
  const { createServer } = await import('node:http');
  const patches: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'PATCH') patches.push(body);
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'multicluster.linkerd.io/v1alpha3', kind: 'Link', metadata: { name: 'link', namespace: 'ns' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  const port = (server.address() as AddressInfo).port;
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const t = new Date('2026-01-01T00:00:00Z');
  const w = new LinkStatusWriter(kc, 'ns', 'link', createLogger({ level: 'error' }), 60_000, () => t);
  try {
    await fn(w, patches);
  } finally {
    w.stop();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test('a flush whose body equals the last accepted one sends nothing', () =>
  withStatusServer(async (w, patches) => {
    const ref = { namespace: 'web', name: 'svc' };
    w.setMirror(ref, { namespace: 'web', name: 'svc-c' }, 'Mirrored', '');
    await w.flush();
    assert.equal(patches.length, 1);
    // Cleared and set again to the same state: dirty, but the body is what the server has.
    w.clearMirror(ref);
    w.setMirror(ref, { namespace: 'web', name: 'svc-c' }, 'Mirrored', '');
    await w.flush();
    assert.equal(patches.length, 1);
    w.setMirror(ref, { namespace: 'web', name: 'svc-c' }, 'Error', 'boom');
    await w.flush();
    assert.equal(patches.length, 2);
    assert.match(patches[1] ?? '', /"reason":"Error"/);
    // Past the cap, more healthy services that sort after the listed ones change nothing written.
    for (let i = 0; i < MAX_STATUS_ENTRIES; i++) w.setMirror({ namespace: 'web', name: `a${String(i).padStart(4, '0')}` }, undefined, 'Mirrored', '');
    await w.flush();
    assert.equal(patches.length, 3);
    assert.match(patches[2] ?? '', /"type":"StatusTruncated","status":"True"/);
    for (let i = 0; i < 50; i++) w.setMirror({ namespace: 'zz', name: `s${i}` }, undefined, 'Mirrored', '');
    await w.flush();
    assert.equal(patches.length, 3);
  }));

test('past the cap, only changes that can show in the written list mark the status for writing', () =>
  withStatusServer(async (w, patches) => {
    const key = (i: number) => ({ namespace: 'web', name: `s${String(i).padStart(4, '0')}` });
    for (let i = 0; i < MAX_STATUS_ENTRIES + 100; i++) w.setMirror(key(i), undefined, 'Mirrored', '');
    await w.flush();
    assert.equal(patches.length, 1);
    assert.equal(w.pending, 'none');
    const listed = (body: string | undefined) =>
      (JSON.parse(body ?? '{}') as { status: { mirrorServices: Array<{ remoteRef: { name: string } }> } }).status.mirrorServices.map(
        (s) => s.remoteRef.name,
      );
    assert.equal(listed(patches[0]).at(-1), key(MAX_STATUS_ENTRIES - 1).name);
    // Healthy, after the last listed: not shown, nothing to write.
    w.setMirror(key(MAX_STATUS_ENTRIES + 200), undefined, 'Mirrored', '');
    w.clearMirror(key(MAX_STATUS_ENTRIES + 50));
    assert.equal(w.pending, 'none');
    // A failing one is always listed, wherever it sorts.
    w.setMirror(key(MAX_STATUS_ENTRIES + 60), undefined, 'Error', 'boom');
    assert.notEqual(w.pending, 'none');
    await w.flush();
    assert.equal(patches.length, 2);
    assert.ok(listed(patches[1]).includes(key(MAX_STATUS_ENTRIES + 60).name));
    // It recovers: it leaves the list again.
    w.setMirror(key(MAX_STATUS_ENTRIES + 60), undefined, 'Mirrored', '');
    assert.notEqual(w.pending, 'none');
    await w.flush();
    assert.ok(!listed(patches[2]).includes(key(MAX_STATUS_ENTRIES + 60).name));
    // A healthy one before the last listed pushes that one out.
    w.clearMirror(key(3));
    assert.notEqual(w.pending, 'none');
    await w.flush();
    assert.equal(listed(patches[3]).at(-1), key(MAX_STATUS_ENTRIES).name);
    // Back under the cap, the truncation condition must go even if no listed entry changed.
    for (let i = MAX_STATUS_ENTRIES + 200; i >= MAX_STATUS_ENTRIES; i--) w.clearMirror(key(i));
    assert.notEqual(w.pending, 'none');
    await w.flush();
    assert.doesNotMatch(patches.at(-1) ?? '', /StatusTruncated/);
  }));

test('healthy-only changes wait for a later write; failures and Link-wide conditions do not', () => {
  const w = writer(() => new Date('2026-01-01T00:00:00Z'));
  assert.equal(w.pending, 'none');
  w.setMirror({ namespace: 'web', name: 'a' }, { namespace: 'web', name: 'a-c' }, 'Mirrored', '');
  assert.equal(w.pending, 'deferred');
  w.setMirror({ namespace: 'web', name: 'b' }, { namespace: 'web', name: 'b-c' }, 'NameCollision', 'taken');
  assert.equal(w.pending, 'prompt');
  w.stop();
  const v = writer(() => new Date('2026-01-01T00:00:00Z'));
  v.setMirror({ namespace: 'web', name: 'a' }, { namespace: 'web', name: 'a-c' }, 'Mirrored', '');
  v.setLinkCondition('RemoteReachable', 'False', 'Unreachable', 'down');
  assert.equal(v.pending, 'prompt');
  v.stop();
});

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('a failed write is retried with backoff until stop(); after it, a failed final flush leaves the status pending and schedules nothing', () =>
  withStatusServer(async (w, patches) => {
    const base = timers();
    w.setLinkCondition('RemoteReachable', 'False', 'Unreachable', 'down');
    await w.flush();
    assert.equal(patches.length, 1);
    assert.equal(w.pending, 'prompt');
    assert.equal(timers(), base + 1, 'a retry is scheduled');
    w.stop();
    assert.equal(timers(), base);
    await w.flush();
    assert.equal(patches.length, 2, 'the final flush still writes');
    assert.equal(w.pending, 'prompt', 'what could not be written stays pending');
    assert.equal(timers(), base, 'and nothing retries it after stop');
  }, 500));
