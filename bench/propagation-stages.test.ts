import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, appendFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyStages, parseWriteRecord, StageTracer, stagesOf } from './propagation-stages.ts';

const line = (fields: Record<string, unknown>) => JSON.stringify({ ts: '2026-12-02T10:00:00.050Z', level: 'info', ...fields });

test('a mirror write line with timing fields parses; other lines do not', () => {
  const rec = parseWriteRecord(line({ msg: 'mirror written', object: 'bench/a-cluster2', event_at: 1000.5, queued_ms: 2.5 }));
  assert.deepEqual(rec, { object: 'bench/a-cluster2', eventAt: 1000.5, queuedMs: 2.5, doneAt: Date.parse('2026-12-02T10:00:00.050Z') });
  assert.equal(parseWriteRecord(line({ msg: 'mirror written', object: 'bench/a-cluster2' })), undefined, 'no timing fields');
  assert.equal(parseWriteRecord(line({ msg: 'gateway health changed', event_at: 1, queued_ms: 1, object: 'x' })), undefined);
  assert.equal(parseWriteRecord('not json'), undefined);
});

test('one propagation splits into four stages that add up to the whole', () => {
  const rec = { object: 'o', eventAt: 1010, queuedMs: 3, doneAt: 1020 };
  const s = stagesOf(rec, 1000, 1025);
  assert.deepEqual(s, { write_to_event: 10, event_to_reconcile: 3, reconcile_to_local_write: 7, local_write_to_seen: 5 });
  assert.equal(s.write_to_event + s.event_to_reconcile + s.reconcile_to_local_write + s.local_write_to_seen, 25);
});

test('the tracer matches a propagation with the first write of its object at or after the remote write', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stages-'));
  const path = join(dir, 'controller.log');
  const writeEpoch = Date.parse('2026-12-02T10:00:00.000Z');
  await writeFile(path, line({ msg: 'mirror written', object: 'bench/a', event_at: writeEpoch - 500, queued_ms: 1 }) + '\n');
  const tracer = new StageTracer(path);
  await tracer.skipToEnd();
  await appendFile(
    path,
    [
      line({ msg: 'mirror written', object: 'bench/b', event_at: writeEpoch + 5, queued_ms: 1 }),
      line({ msg: 'mirror removed', object: 'bench/a', event_at: writeEpoch + 8, queued_ms: 2 }),
    ].join('\n') + '\n',
  );
  const into = emptyStages();
  const writeAt = writeEpoch - performance.timeOrigin;
  await tracer.record(into, 'bench/a', writeAt, writeAt + 60);
  assert.equal(into.unmatched, 0);
  assert.equal(into.write_to_event.length, 1);
  assert.ok(Math.abs(into.write_to_event[0]! - 8) < 1e-6);
  assert.deepEqual(into.event_to_reconcile, [2]);
  assert.deepEqual(into.reconcile_to_local_write, [40]);
  assert.ok(Math.abs(into.local_write_to_seen[0]! - 10) < 1e-6);
});
