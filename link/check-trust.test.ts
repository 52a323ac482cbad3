import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createTrustAnchor } from '../identity/trust-anchor.ts';
import { compareAnchors, parseTrustBundle, TrustBundleError } from './check-trust.ts';

let a: string;
let b: string;

/** The same certificate written differently: CRLF, 76-column lines, a comment before it. */
function reformat(pem: string): string {
  const b64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return `# anchor\r\n-----BEGIN CERTIFICATE-----\r\n${b64.match(/.{1,76}/g)!.join('\r\n')}\r\n-----END CERTIFICATE-----\r\n`;
}

describe('trust anchor comparison', () => {
  before(async () => {
    a = (await createTrustAnchor({ commonName: 'root-a' })).certPem;
    b = (await createTrustAnchor({ commonName: 'root-b' })).certPem;
  });

  it('ignores formatting, order and duplicates', () => {
    const local = parseTrustBundle(`${a}\n${b}`);
    const remote = parseTrustBundle(`${reformat(b)}${reformat(a)}${a}`);
    assert.equal(remote.length, 2);
    assert.deepEqual(compareAnchors(local, remote), { kind: 'equal', count: 2 });
  });

  it('tells overlap (a rotation) from disjoint bundles', () => {
    const cmp = compareAnchors(parseTrustBundle(`${a}${b}`), parseTrustBundle(a));
    assert.equal(cmp.kind, 'overlap');
    if (cmp.kind === 'overlap') assert.deepEqual([cmp.shared, cmp.onlyLocal.map((x) => x.subject), cmp.onlyRemote], [1, ['CN=root-b'], []]);
    assert.equal(compareAnchors(parseTrustBundle(a), parseTrustBundle(b)).kind, 'disjoint');
  });

  it('rejects bundles without certificates or with broken ones', () => {
    assert.throws(() => parseTrustBundle(''), TrustBundleError);
    assert.throws(
      () => parseTrustBundle('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'),
      /certificate #1 is not a valid X.509 certificate/,
    );
  });
});
