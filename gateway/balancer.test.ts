import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P2cBalancer } from './balancer.ts';

const a = { ip: '10.0.0.1', port: 80 };
const b = { ip: '10.0.0.2', port: 80 };
const c = { ip: '10.0.0.3', port: 80 };

function seq(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

test('an empty balancer picks nothing; a single endpoint is always picked', () => {
  const bal = new P2cBalancer();
  assert.equal(bal.pick(), undefined);
  bal.update([a]);
  assert.deepEqual(bal.pick()?.endpoint, a);
});

test('of two candidates the one with the lower latency estimate wins', () => {
  let now = 0;
  const bal = new P2cBalancer({ now: () => now, random: seq([0, 0.9]) });
  bal.update([a, b]);
  const slow = bal.pick();
  assert.deepEqual(slow?.endpoint, a);
  slow?.success(500);
  const fast = bal.pick();
  assert.deepEqual(fast?.endpoint, b, 'a is now expensive, so b wins the comparison');
  fast?.success(1);
  now += 1;
  assert.deepEqual(bal.pick()?.endpoint, b);
});

test('pending requests raise an endpoint cost', () => {
  const bal = new P2cBalancer({ now: () => 0, random: seq([0, 0.9]) });
  bal.update([a, b]);
  const first = bal.pick();
  const second = bal.pick();
  assert.notDeepEqual(first?.endpoint, second?.endpoint, 'the busy endpoint loses while its request is pending');
});

test('repeated failures eject an endpoint until the ejection expires', () => {
  let now = 0;
  const bal = new P2cBalancer({ now: () => now, random: Math.random, failuresToEject: 2, ejectMs: 1000 });
  bal.update([a, b]);
  for (let i = 0; i < 2; i++) {
    const p = bal.pick();
    if (p && p.endpoint.ip !== a.ip) p.release();
    else p?.failure();
  }
  // Force two failures on a regardless of which was picked above.
  while (!bal.isEjected(a)) {
    const p = bal.pick();
    if (p?.endpoint.ip === a.ip) p.failure();
    else p?.release();
  }
  for (let i = 0; i < 20; i++) {
    const p = bal.pick();
    assert.deepEqual(p?.endpoint, b);
    p?.release();
  }
  now += 1001;
  assert.equal(bal.isEjected(a), false);
});

test('when every endpoint is ejected they are still used rather than failing', () => {
  const bal = new P2cBalancer({ now: () => 0, failuresToEject: 1 });
  bal.update([a]);
  bal.pick()?.failure();
  assert.ok(bal.isEjected(a));
  assert.deepEqual(bal.pick()?.endpoint, a);
});

test('updates keep learned state for endpoints that stay and drop the others', () => {
  const bal = new P2cBalancer({ now: () => 0, random: seq([0, 0.9]) });
  bal.update([a, b]);
  bal.pick()?.success(900);
  bal.update([a, b, c]);
  assert.equal(bal.size, 3);
  bal.update([c]);
  assert.equal(bal.size, 1);
  assert.deepEqual(bal.pick()?.endpoint, c);
});
