import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIdentityName, InvalidIdentityNameError, isIdentityName, parseIdentityName } from './identity-name.ts';

test('formats and parses Linkerd workload identities', () => {
  const parts = { serviceAccount: 'default', namespace: 'emojivoto', controlNamespace: 'linkerd', trustDomain: 'cluster.local' };
  const name = formatIdentityName(parts);
  assert.equal(name, 'default.emojivoto.serviceaccount.identity.linkerd.cluster.local');
  assert.deepEqual(parseIdentityName(name), parts);
  assert.deepEqual(parseIdentityName('gw.mc.serviceaccount.identity.l5d.example'), {
    serviceAccount: 'gw',
    namespace: 'mc',
    controlNamespace: 'l5d',
    trustDomain: 'example',
  });
  assert.equal(isIdentityName('a.b.serviceaccount.identity.c.d.e.f'), true);
});

test('rejects malformed names, saying what is wrong and what was expected', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /it is empty/],
    ['Default.ns.serviceaccount.identity.linkerd.cluster.local', /uppercase/],
    ['default.ns.svc.cluster.local', /does not have the form/],
    ['default.ns.serviceaccount.identity.linkerd', /does not have the form/],
    ['default.ns.serviceaccount.identity.linkerd.cluster.local.', /trust domain "cluster\.local\.".*trailing dot/],
    ['de_fault.ns.serviceaccount.identity.linkerd.cluster.local', /service account "de_fault".*DNS-1123 label/],
    ['default.-ns.serviceaccount.identity.linkerd.cluster.local', /namespace "-ns"/],
    ['default.ns.serviceaccount.identity.linkerd.cluster..local', /trust domain "cluster\.\.local".*label "" that is empty/],
    [`${'a'.repeat(64)}.ns.serviceaccount.identity.linkerd.cluster.local`, /64 characters long \(at most 63/],
  ];
  for (const [name, why] of cases) {
    assert.throws(
      () => parseIdentityName(name),
      (e: unknown) => {
        assert.ok(e instanceof InvalidIdentityNameError, name);
        assert.match(e.message, why, name);
        assert.match(e.message, /expected <service-account>\.<namespace>\.serviceaccount\.identity\./);
        return true;
      },
    );
    assert.equal(isIdentityName(name), false);
  }
});

test('rejects names longer than a DNS name may be', () => {
  const label = 'a'.repeat(63);
  const trustDomain = [label, label, label].join('.');
  assert.throws(
    () => formatIdentityName({ serviceAccount: label, namespace: 'ns', controlNamespace: 'linkerd', trustDomain }),
    /characters long, but a DNS name may have at most 253/,
  );
});

test('formatIdentityName names the bad part', () => {
  assert.throws(
    () => formatIdentityName({ serviceAccount: 'ok', namespace: 'Bad', controlNamespace: 'linkerd', trustDomain: 'cluster.local' }),
    /invalid namespace "Bad": it is not a DNS-1123 label/,
  );
});
