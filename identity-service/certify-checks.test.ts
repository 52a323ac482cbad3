import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidIdentityNameError } from '../identity/identity-name.ts';
import { checkRequestedIdentity, checkRequestFields, checkTokenIdentity, identityForUsername } from './certify-checks.ts';
import { ForeignIdentityError, MissingFieldError, TokenIdentityMismatchError } from './refusals.ts';

const SCOPE = { controlNamespace: 'linkerd', trustDomain: 'cluster.local' };
const WEB = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');

test('checkRequestFields requires identity, token and CSR, and trims the token', () => {
  const csr = new Uint8Array([0x30, 0x00]);
  assert.deepEqual(checkRequestFields({ identity: WEB, token: bytes('  jwt.token.sig\n'), certificateSigningRequest: csr }), {
    identity: WEB,
    token: 'jwt.token.sig',
    csrDer: csr,
  });
  assert.throws(
    () => checkRequestFields({ identity: '', token: bytes('t'), certificateSigningRequest: csr }),
    (e: unknown) => {
      assert.ok(e instanceof MissingFieldError);
      assert.match(e.message, /no identity.*LINKERD2_PROXY_IDENTITY_LOCAL_NAME/);
      return true;
    },
  );
  assert.throws(() => checkRequestFields({ identity: WEB, token: bytes(' \n'), certificateSigningRequest: csr }), /no token.*identity\.l5d\.io/);
  assert.throws(
    () => checkRequestFields({ identity: WEB, token: bytes('t'), certificateSigningRequest: new Uint8Array() }),
    /no certificate_signing_request/,
  );
});

test('checkRequestedIdentity accepts only identities of this trust domain and control plane', () => {
  assert.deepEqual(checkRequestedIdentity(WEB, SCOPE), {
    serviceAccount: 'web',
    namespace: 'emojivoto',
    controlNamespace: 'linkerd',
    trustDomain: 'cluster.local',
  });
  assert.throws(
    () => checkRequestedIdentity('web.emojivoto.serviceaccount.identity.linkerd.other.domain', SCOPE),
    (e: unknown) => {
      assert.ok(e instanceof ForeignIdentityError);
      assert.match(e.message, /trust domain "other\.domain", but this identity service issues for "cluster\.local"/);
      return true;
    },
  );
  assert.throws(
    () => checkRequestedIdentity('web.emojivoto.serviceaccount.identity.linkerd-b.cluster.local', SCOPE),
    (e: unknown) => {
      assert.ok(e instanceof ForeignIdentityError);
      assert.match(e.message, /namespace "linkerd-b".*request web\.emojivoto\.serviceaccount\.identity\.linkerd\.cluster\.local/);
      return true;
    },
  );
  assert.throws(() => checkRequestedIdentity('web.emojivoto.svc.cluster.local', SCOPE), InvalidIdentityNameError);
  assert.throws(() => checkRequestedIdentity('Web.emojivoto.serviceaccount.identity.linkerd.cluster.local', SCOPE), InvalidIdentityNameError);
});

test('identityForUsername maps ServiceAccount users, and nothing else', () => {
  assert.equal(identityForUsername('system:serviceaccount:emojivoto:web', SCOPE), WEB);
  assert.equal(
    identityForUsername('system:serviceaccount:emojivoto:web', { controlNamespace: 'l5d', trustDomain: 'east.example' }),
    'web.emojivoto.serviceaccount.identity.l5d.east.example',
  );
  for (const user of [
    'system:node:worker-1',
    'system:serviceaccount:emojivoto',
    'system:serviceaccount:a:b:c',
    'alice',
    '',
    'system:serviceaccount:Ns:web',
  ]) {
    assert.equal(identityForUsername(user, SCOPE), undefined, user);
  }
});

test('checkTokenIdentity refuses a token of another ServiceAccount or of a non-ServiceAccount user', () => {
  checkTokenIdentity('system:serviceaccount:emojivoto:web', WEB, SCOPE);
  assert.throws(
    () => checkTokenIdentity('system:serviceaccount:emojivoto:voting', WEB, SCOPE),
    (e: unknown) => {
      assert.ok(e instanceof TokenIdentityMismatchError);
      assert.match(e.message, /^token is for voting\.emojivoto\.serviceaccount\.identity\.linkerd\.cluster\.local .*CSR asks for web\.emojivoto/);
      assert.match(e.message, /ServiceAccount "web" in namespace "emojivoto"/);
      return true;
    },
  );
  assert.throws(
    () => checkTokenIdentity('kubernetes-admin', WEB, SCOPE),
    (e: unknown) => {
      assert.ok(e instanceof TokenIdentityMismatchError);
      assert.match(e.message, /^token is for "kubernetes-admin", which is not a ServiceAccount/);
      return true;
    },
  );
});
