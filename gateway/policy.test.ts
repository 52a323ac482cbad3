import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatch, isAllowed, parsePolicy, PolicyFileError } from './policy.ts';

const web = 'web.default.serviceaccount.identity.linkerd.cluster.local';
const admin = 'admin.ops.serviceaccount.identity.linkerd.cluster.local';

test('* stays within a label, ** crosses labels, the rest is literal', () => {
  assert.ok(globMatch('*.default.serviceaccount.identity.linkerd.cluster.local', web));
  assert.ok(!globMatch('*.serviceaccount.identity.linkerd.cluster.local', web));
  assert.ok(globMatch('**.cluster.local', web));
  assert.ok(globMatch('**', web));
  assert.ok(!globMatch('web.default.serviceaccount.identity.linkerd.cluster.locaX', web));
  assert.ok(!globMatch('web?default**', web), '? is literal');
});

test('no policy and no annotation admit every authenticated client (upstream default)', () => {
  assert.ok(isAllowed(undefined, { clientId: web, service: { name: 'api', namespace: 'prod' } }));
});

test('the allowed-clients annotation restricts its Service', () => {
  const input = { service: { name: 'api', namespace: 'prod' }, annotation: ` ${admin} , *.default.serviceaccount.identity.linkerd.cluster.local` };
  assert.ok(isAllowed(undefined, { ...input, clientId: web }));
  assert.ok(isAllowed(undefined, { ...input, clientId: admin }));
  assert.ok(!isAllowed(undefined, { ...input, clientId: 'x.other.serviceaccount.identity.linkerd.cluster.local' }));
});

test('every matching policy rule must allow the client; other Services are unaffected', () => {
  const policy = parsePolicy(`rules:\n  - service: "api.*"\n    allow: ["*.default.**"]\n  - service: "**"\n    allow: ["**"]\n`);
  assert.ok(isAllowed(policy, { clientId: web, service: { name: 'api', namespace: 'prod' } }));
  assert.ok(!isAllowed(policy, { clientId: admin, service: { name: 'api', namespace: 'prod' } }));
  assert.ok(isAllowed(policy, { clientId: admin, service: { name: 'web', namespace: 'prod' } }));
});

test('malformed policy files are named errors', () => {
  assert.throws(() => parsePolicy('rules: 3'), PolicyFileError);
  assert.throws(() => parsePolicy('rules:\n  - service: a\n    allow: [1]\n'), PolicyFileError);
  assert.throws(() => parsePolicy(':\n  - ['), PolicyFileError);
});
