import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_NAME, isDns1123Label, mirrorServiceName, suffixedName } from './mirror-naming.ts';

test('short names are upstream-compatible `<svc>-<cluster>`', () => {
  assert.equal(mirrorServiceName('web-svc', 'cluster2'), 'web-svc-cluster2');
});

test('long names are shortened deterministically, stay valid and keep the cluster suffix', () => {
  const svc = 'a-really-long-service-name-that-goes-on-and-on-and-on-forever-x';
  const a = mirrorServiceName(svc, 'cluster2');
  const b = mirrorServiceName(svc, 'cluster2');
  assert.equal(a, b);
  assert.ok(a.length <= MAX_NAME, a);
  assert.ok(a.endsWith('-cluster2'));
  assert.ok(isDns1123Label(a), a);
  assert.notEqual(a, mirrorServiceName(svc + 'y', 'cluster2'), 'different inputs, different names');
});

test('a prefix that would end in a dash is trimmed', () => {
  const base = 'x'.repeat(44) + '-' + 'y'.repeat(20);
  const name = suffixedName(base, 'cluster2');
  assert.ok(isDns1123Label(name), name);
});

test('a cluster name that fills the label still yields a valid name', () => {
  const name = suffixedName('web', 'c'.repeat(60));
  assert.ok(name.length <= MAX_NAME && isDns1123Label(name), name);
});
