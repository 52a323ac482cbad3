import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewaySuffix, parseTargetName } from './target-name.ts';
import { GatewayDomainInvalidError } from './errors.ts';

const suffix = gatewaySuffix('cluster.local');

test('service names under the suffix resolve to the Service, trailing dot and case ignored', () => {
  assert.equal(suffix, 'svc.cluster.local');
  assert.deepEqual(parseTargetName('web.prod.svc.cluster.local', suffix), { service: 'web', namespace: 'prod' });
  assert.deepEqual(parseTargetName('Web.Prod.svc.cluster.local.', suffix), { service: 'web', namespace: 'prod' });
  assert.deepEqual(parseTargetName('web-0.web.prod.svc.cluster.local', suffix), { hostname: 'web-0', service: 'web', namespace: 'prod' });
});

test('names outside the suffix or of the wrong shape are a bad gateway domain', () => {
  for (const name of [
    'web.prod.svc.other.local',
    'prod.svc.cluster.local',
    'a.b.c.d.svc.cluster.local',
    'web.prod.svc.cluster.localx',
    'we_b.prod.svc.cluster.local',
  ]) {
    assert.throws(() => parseTargetName(name, suffix), GatewayDomainInvalidError, name);
  }
});

test('a custom cluster domain changes the suffix', () => {
  assert.deepEqual(parseTargetName('web.prod.svc.east.example', gatewaySuffix('east.example.')), { service: 'web', namespace: 'prod' });
  assert.throws(() => parseTargetName('web.prod.svc.cluster.local', gatewaySuffix('east.example')), GatewayDomainInvalidError);
});
