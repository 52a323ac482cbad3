import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT_MARKER, SLOT_MARKER, markerEnv, slotDir, slotOfDir, stateRoot } from './harness-marker.ts';

test('a state directory belongs to the slot whose directory holds it', () => {
  assert.equal(slotOfDir(slotDir(7)), 7);
  assert.equal(slotOfDir(join(slotDir(12), 'cluster1', 'pods', 'ns_pod_1234')), 12);
  assert.equal(slotOfDir(join(stateRoot(), 'slot-x')), undefined);
  assert.equal(slotOfDir('/somewhere/else/slot-3'), undefined);
  assert.deepEqual(markerEnv(3), { [SLOT_MARKER]: '3', [ROOT_MARKER]: stateRoot() });
});
