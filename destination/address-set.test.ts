import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { diffUpdates, EMPTY_STATE, snapshotUpdates, stateOf } from './address-set.ts';
import type { DesiredSet, Endpoint, Update } from './types.ts';

const ep = (ip: string, port = 8080, extra: Partial<Endpoint> = {}): Endpoint => ({ ip, port, weight: 10_000, labels: {}, http2: false, ...extra });
const set = (...groups: Array<[string, Endpoint[]]>): DesiredSet => ({
  exists: true,
  groups: groups.map(([key, endpoints]) => ({ key, setLabels: { service: key }, endpoints })),
});

test('snapshot: one add per group, or no_endpoints{exists} when empty or gone', () => {
  assert.deepEqual(snapshotUpdates(set(['a', [ep('10.0.0.1')]], ['b', [ep('10.0.0.2')]])), [
    { kind: 'add', setLabels: { service: 'a' }, endpoints: [ep('10.0.0.1')] },
    { kind: 'add', setLabels: { service: 'b' }, endpoints: [ep('10.0.0.2')] },
  ]);
  assert.deepEqual(snapshotUpdates(set(['a', []])), [{ kind: 'no-endpoints', exists: true }]);
  assert.deepEqual(snapshotUpdates({ exists: false, groups: [] }), [{ kind: 'no-endpoints', exists: false }]);
});

test('diff: removes what left, adds what is new or changed, nothing when equal', () => {
  const prev = stateOf(set(['a', [ep('10.0.0.1'), ep('10.0.0.2'), ep('10.0.0.3')]]));
  const changed = ep('10.0.0.3', 8080, { labels: { pod: 'p3' } });
  const { updates } = diffUpdates(prev, set(['a', [ep('10.0.0.2'), changed, ep('10.0.0.4')]]));
  assert.deepEqual(updates, [
    { kind: 'remove', addrs: [{ ip: '10.0.0.1', port: 8080 }] },
    { kind: 'add', setLabels: { service: 'a' }, endpoints: [changed, ep('10.0.0.4')] },
  ]);
  assert.deepEqual(diffUpdates(prev, set(['a', [ep('10.0.0.3'), ep('10.0.0.2'), ep('10.0.0.1')]])).updates, []);
});

test('diff: the set emptied is a remove of every address; the Service gone is no_endpoints{false}', () => {
  const prev = stateOf(set(['a', [ep('10.0.0.1')]], ['b', [ep('10.0.0.2')]]));
  assert.deepEqual(diffUpdates(prev, set(['a', []], ['b', []])).updates, [
    {
      kind: 'remove',
      addrs: [
        { ip: '10.0.0.1', port: 8080 },
        { ip: '10.0.0.2', port: 8080 },
      ],
    },
  ]);
  assert.deepEqual(diffUpdates(prev, { exists: false, groups: [] }).updates, [{ kind: 'no-endpoints', exists: false }]);
  assert.deepEqual(diffUpdates(EMPTY_STATE, set(['a', [ep('10.0.0.1')]])).updates, [
    { kind: 'add', setLabels: { service: 'a' }, endpoints: [ep('10.0.0.1')] },
  ]);
});

test('an address that moves to another group is added again with the new set labels', () => {
  const prev = stateOf(set(['a', [ep('10.0.0.1')]], ['b', []]));
  assert.deepEqual(diffUpdates(prev, set(['a', []], ['b', [ep('10.0.0.1')]])).updates, [
    { kind: 'add', setLabels: { service: 'b' }, endpoints: [ep('10.0.0.1')] },
  ]);
});

/** What a proxy holds after applying `updates` to `held` (its resolve semantics). */
function apply(held: Map<string, string>, updates: readonly Update[]): Map<string, string> {
  const out = new Map(held);
  for (const u of updates) {
    if (u.kind === 'add') for (const e of u.endpoints) out.set(`${e.ip}:${e.port}`, JSON.stringify([u.setLabels, e.labels]));
    else if (u.kind === 'remove') for (const a of u.addrs) out.delete(`${a.ip}:${a.port}`);
    else out.clear();
  }
  return out;
}

test('property: snapshot then any sequence of diffs leaves the proxy holding exactly the last set', () => {
  const endpoint = fc.record({ host: fc.integer({ min: 1, max: 12 }), pod: fc.constantFrom('x', 'y') });
  const desired = fc
    .array(fc.array(endpoint, { maxLength: 8 }), { minLength: 1, maxLength: 3 })
    .map((groups): DesiredSet =>
      set(...groups.map((g, i): [string, Endpoint[]] => [`g${i % 2}`, g.map((e) => ep(`10.0.0.${e.host}`, 80, { labels: { pod: e.pod } }))])),
    );
  fc.assert(
    fc.property(fc.array(desired, { minLength: 1, maxLength: 6 }), (sets) => {
      let held = apply(new Map(), snapshotUpdates(sets[0] as DesiredSet));
      let state = stateOf(sets[0] as DesiredSet);
      for (const next of sets.slice(1)) {
        const d = diffUpdates(state, next);
        held = apply(held, d.updates);
        state = d.state;
        for (const u of d.updates) if (u.kind === 'add') assert.ok(u.endpoints.length > 0, 'no empty adds');
      }
      const expected = new Map<string, string>();
      for (const g of (sets.at(-1) as DesiredSet).groups)
        for (const e of g.endpoints) {
          expected.delete(`${e.ip}:${e.port}`);
          expected.set(`${e.ip}:${e.port}`, JSON.stringify([g.setLabels, e.labels]));
        }
      assert.deepEqual(new Map([...held].sort()), new Map([...expected].sort()));
    }),
  );
});
