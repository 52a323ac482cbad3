import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidPathError } from './errors.ts';
import { parseOpaquePorts } from './opaque-ports.ts';
import { parseTarget, serviceFqdn } from './target.ts';

test('fully qualified, svc-suffixed and short Service names resolve to the same target', () => {
  for (const path of ['web.emojivoto.svc.cluster.local:80', 'web.emojivoto.svc.cluster.local.:80', 'web.emojivoto.svc:80', 'web.emojivoto:80']) {
    assert.deepEqual(parseTarget(path, 'cluster.local'), { namespace: 'emojivoto', name: 'web', port: 80 }, path);
  }
  assert.deepEqual(parseTarget('web.ns.svc.example.org:8080', 'example.org'), { namespace: 'ns', name: 'web', port: 8080 });
});

test('paths that name no Service are InvalidPathError', () => {
  for (const path of [
    'web',
    ':80',
    'web.ns.svc.cluster.local',
    'web.ns.svc.cluster.local:0',
    'web.ns.svc.cluster.local:65536',
    'web.ns.svc.cluster.local:http',
    'web.ns.svc.other.domain:80',
    'web:80',
    'a.b.c.d:80',
    '10.0.0.1:80',
    '[::1]:80',
    'Web_.ns:80',
  ]) {
    assert.throws(() => parseTarget(path, 'cluster.local'), InvalidPathError, path);
  }
});

test('serviceFqdn', () => {
  assert.equal(serviceFqdn({ name: 'web', namespace: 'ns' }, 'cluster.local'), 'web.ns.svc.cluster.local');
});

test('opaque ports: single ports and ranges; junk entries mark nothing', () => {
  const opaque = parseOpaquePorts('25, 3306,8000-8002,x,9-1,70000');
  assert.deepEqual(
    [25, 26, 3306, 7999, 8000, 8001, 8002, 8003, 9, 1].map((p) => opaque(p)),
    [true, false, true, false, true, true, true, false, false, false],
  );
  assert.equal(parseOpaquePorts(undefined)(80), false);
});
