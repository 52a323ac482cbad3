import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  certify,
  DESTINATION_GET_PATH,
  DESTINATION_GET_PROFILE_PATH,
  destinationServiceDefinition,
  IDENTITY_CERTIFY_PATH,
  identityServiceDefinition,
  newDestinationClient,
  newIdentityClient,
  tcpAddress,
  tcpAddressFromWire,
  type DestinationServer,
  type IdentityServer,
  type UpdateOut,
} from './load.ts';

test('the services have the paths linkerd2-proxy calls', () => {
  const destination = destinationServiceDefinition();
  assert.equal(destination.Get.path, '/io.linkerd.proxy.destination.Destination/Get');
  assert.equal(destination.GetProfile.path, '/io.linkerd.proxy.destination.Destination/GetProfile');
  assert.equal(identityServiceDefinition().Certify.path, '/io.linkerd.proxy.identity.Identity/Certify');
  assert.deepEqual(
    [DESTINATION_GET_PATH, DESTINATION_GET_PROFILE_PATH, IDENTITY_CERTIFY_PATH],
    [destination.Get.path, destination.GetProfile.path, identityServiceDefinition().Certify.path],
  );
  assert.deepEqual([destination.Get.requestStream, destination.Get.responseStream], [false, true]);
  assert.deepEqual([destination.GetProfile.requestStream, destination.GetProfile.responseStream], [false, true]);
  assert.deepEqual([identityServiceDefinition().Certify.requestStream, identityServiceDefinition().Certify.responseStream], [false, false]);
});

test('a loopback server and the typed clients talk through the definitions', async () => {
  const seen: string[] = [];
  const destinationImpl: DestinationServer = {
    Get: (call) => {
      seen.push(`${call.request.path} ${call.request.context_token}`);
      call.write({ add: { addrs: [{ addr: tcpAddress('10.0.0.7', 8080), weight: 10_000 }] } });
      call.write({ no_endpoints: { exists: true } });
      call.end();
    },
    GetProfile: (call) => {
      call.write({ fully_qualified_name: call.request.path.split(':')[0] });
      call.end();
    },
  };
  const identityImpl: IdentityServer = {
    Certify: (call, callback) => {
      if (call.request.token.toString() !== 'good') {
        callback({ code: grpc.status.FAILED_PRECONDITION, details: 'bad token' });
        return;
      }
      callback(null, { leaf_certificate: call.request.certificate_signing_request, intermediate_certificates: [], valid_until: { seconds: 42 } });
    },
  };
  const server = new grpc.Server();
  server.addService(destinationServiceDefinition(), destinationImpl);
  server.addService(identityServiceDefinition(), identityImpl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const address = `127.0.0.1:${port}`;
  const destination = newDestinationClient(address, grpc.credentials.createInsecure());
  const identity = newIdentityClient(address, grpc.credentials.createInsecure());
  try {
    const updates: UpdateOut[] = [];
    for await (const u of destination.Get({ path: 'web.ns.svc.cluster.local:8080', context_token: '{"ns":"x"}' })) updates.push(u as UpdateOut);
    assert.deepEqual(seen, ['web.ns.svc.cluster.local:8080 {"ns":"x"}']);
    assert.deepEqual(
      updates.map((u) => u.update),
      ['add', 'no_endpoints'],
    );
    const first = updates[0];
    assert.ok(first?.update === 'add');
    assert.deepEqual(tcpAddressFromWire(first.add.addrs[0]?.addr), { ip: '10.0.0.7', port: 8080 });

    const profiles = [];
    for await (const p of destination.GetProfile({ path: 'web.ns.svc.cluster.local:8080' })) profiles.push(p);
    assert.equal(profiles.length, 1);

    const response = await certify(identity, { identity: 'a.b', token: Buffer.from('good'), certificate_signing_request: Buffer.from([0x30, 0x00]) });
    assert.deepEqual(response.leaf_certificate, Buffer.from([0x30, 0x00]));
    assert.deepEqual(response.valid_until, { seconds: '42', nanos: 0 });
    await assert.rejects(
      certify(identity, { identity: 'a.b', token: Buffer.from('bad'), certificate_signing_request: Buffer.alloc(0) }),
      (err: unknown) => (err as grpc.ServiceError).code === grpc.status.FAILED_PRECONDITION,
    );
  } finally {
    destination.close();
    identity.close();
    server.forceShutdown();
  }
});
