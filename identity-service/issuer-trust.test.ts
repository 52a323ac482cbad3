import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIdentityIssuer } from '../identity/issuer.ts';
import { loadSigningCa } from '../identity/signing-ca.ts';
import { createTrustAnchor } from '../identity/trust-anchor.ts';
import { issueCertificate } from '../identity/x509.ts';
import { checkIssuerTrusted, IssuerNotTrustedError } from './issuer-trust.ts';

const anchor = await createTrustAnchor();
const other = await createTrustAnchor({ commonName: 'other-root' });
const issuer = await createIdentityIssuer(anchor);

test('an issuer signed by one of the anchors is trusted', async () => {
  const ca = await loadSigningCa(issuer.certPem, issuer.keyPem, 'identity issuer');
  checkIssuerTrusted(ca, [other.cert, anchor.cert]);
});

test('an issuer of another anchor is refused, naming the fix', async () => {
  const ca = await loadSigningCa(issuer.certPem, issuer.keyPem, 'identity issuer');
  assert.throws(
    () => checkIssuerTrusted(ca, [other.cert]),
    (e: unknown) => {
      assert.ok(e instanceof IssuerNotTrustedError);
      assert.match(e.message, /"CN=identity\.linkerd\.cluster\.local" does not chain to any of the 1 trust anchor\(s\)/);
      return true;
    },
  );
});

test('an issuer file carrying its chain must be in order, and may end with the anchor itself', async () => {
  const middle = await issueCertificate(anchor, { commonName: 'middle', isCa: true });
  const leafCa = await issueCertificate(middle, { commonName: 'identity.linkerd.cluster.local', isCa: true, pathLength: 0 });
  const inOrder = await loadSigningCa(leafCa.certPem + middle.certPem, leafCa.keyPem, 'identity issuer');
  checkIssuerTrusted(inOrder, [anchor.cert]);
  const withRoot = await loadSigningCa(leafCa.certPem + middle.certPem + anchor.certPem, leafCa.keyPem, 'identity issuer');
  checkIssuerTrusted(withRoot, [anchor.cert]);
  const shuffled = await loadSigningCa(leafCa.certPem + anchor.certPem + middle.certPem, leafCa.keyPem, 'identity issuer');
  assert.throws(() => checkIssuerTrusted(shuffled, [anchor.cert]), /certificate #1 in the issuer file .* is not signed by the next one/);
});
