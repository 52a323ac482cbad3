import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkServerSan } from './certify-client.ts';
import { identityServiceDefinition, identityServiceName, MissingValidUntilError } from './certify-protocol.ts';

const NAME = 'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local';

test('the identity service name is the identity of ServiceAccount identity in the control namespace', () => {
  assert.equal(identityServiceName('linkerd', 'cluster.local'), NAME);
  assert.throws(() => identityServiceName('linkerd', 'bad_domain'), /trust domain "bad_domain"/);
});

test('the server must carry the expected name as a DNS SAN; CN, IP SANs and near misses do not count', () => {
  assert.equal(checkServerSan({ subject: { CN: 'x' }, subjectaltname: `DNS:${NAME}` }, NAME), undefined);
  assert.equal(checkServerSan({ subject: {}, subjectaltname: `DNS:other.example, DNS:${NAME}` }, NAME), undefined);
  const cnOnly = checkServerSan({ subject: { CN: NAME }, subjectaltname: undefined }, NAME);
  assert.match(cnOnly?.message ?? '', /names no DNS SAN, not "linkerd-identity\.linkerd/);
  assert.ok(checkServerSan({ subject: {}, subjectaltname: `IP Address:10.0.0.1, URI:spiffe://${NAME}` }, NAME));
  assert.ok(checkServerSan({ subject: {}, subjectaltname: `DNS:${NAME}.evil` }, NAME));
  assert.ok(checkServerSan({ subject: {}, subjectaltname: 'DNS:*.linkerd.cluster.local' }, NAME));
});

test('Certify messages round-trip through the wire encoding, DER bytes and timestamp intact', () => {
  const { Certify } = identityServiceDefinition();
  assert.equal(Certify.path, '/io.linkerd.proxy.identity.Identity/Certify');
  const req = { identity: NAME, token: new Uint8Array([1, 2, 3]), certificateSigningRequest: new Uint8Array([0x30, 0x82, 0, 1]) };
  const decodedReq = Certify.requestDeserialize(Certify.requestSerialize(req));
  assert.deepEqual([decodedReq.identity, [...decodedReq.token], [...decodedReq.certificateSigningRequest]], [NAME, [1, 2, 3], [0x30, 0x82, 0, 1]]);
  const validUntil = new Date('2030-01-02T03:04:05.678Z');
  const res = { leafCertificate: new Uint8Array([9]), intermediateCertificates: [new Uint8Array([7]), new Uint8Array([8, 8])], validUntil };
  const decoded = Certify.responseDeserialize(Certify.responseSerialize(res));
  assert.deepEqual([...decoded.leafCertificate], [9]);
  assert.deepEqual(
    decoded.intermediateCertificates.map((c) => [...c]),
    [[7], [8, 8]],
  );
  assert.equal(decoded.validUntil.toISOString(), validUntil.toISOString());
  // A response without valid_until (field 3) gives the proxy nothing to schedule renewal by.
  assert.throws(() => Certify.responseDeserialize(Buffer.from([0x0a, 0x01, 0x09])), MissingValidUntilError);
});
