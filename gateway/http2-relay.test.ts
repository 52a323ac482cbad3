// The HTTP/2 relay on loopback, without a cluster: a real GatewayServer (static resolver), an
// nghttp2 target, and an nghttp2 client behind mTLS + the transport header, as a client proxy.
// The dev-cluster suite (gateway.e2e.ts) covers routing, errors and policy; this covers what
// the frame relay itself must get right.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createIdentityIssuer } from '../identity/issuer.ts';
import { issueLeaf } from '../identity/leaf.ts';
import { loadSigningCa } from '../identity/signing-ca.ts';
import { createTrustAnchor } from '../identity/trust-anchor.ts';
import { h2Request } from '../e2e/fixtures/linkerd-client.ts';
import { createLogger } from '../log/logger.ts';
import { P2cBalancer } from './balancer.ts';
import { GatewayDomainInvalidError } from './errors.ts';
import type { Credentials } from './identity-source.ts';
import { GatewayMetrics } from './metrics.ts';
import { dialMeshed } from './outbound-connect.ts';
import { GatewayServer } from './server.ts';
import { Upstreams } from './upstream.ts';

const GW_ID = 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local';
const CLIENT_ID = 'web.demo.serviceaccount.identity.linkerd.cluster.local';
const NAME = 'api.demo.svc.cluster.local';

async function pki(): Promise<{ gateway: Credentials; client: Credentials }> {
  const anchor = await createTrustAnchor();
  const issuer = await createIdentityIssuer(anchor);
  const ca = await loadSigningCa(issuer.certPem, issuer.keyPem, 'identity issuer');
  const creds = async (identity: string): Promise<Credentials> => {
    const leaf = await issueLeaf(ca, { identity });
    return { identity, certChainPem: leaf.chainPem, keyPem: leaf.keyPem, trustAnchorsPem: anchor.certPem, notAfter: leaf.cert.notAfter };
  };
  return { gateway: await creds(GW_ID), client: await creds(CLIENT_ID) };
}

/** A gateway whose only Service is an nghttp2 target running `handler`; returns a client session factory. */
async function setup(
  t: TestContext,
  handler: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
  targetSettings: http2.Settings = {},
): Promise<{ session: (name?: string) => Promise<http2.ClientHttp2Session>; targetSessions: () => number }> {
  const { gateway, client } = await pki();
  const target = http2.createServer({ settings: targetSettings });
  let sessions = 0;
  target.on('session', () => sessions++);
  target.on('stream', (s, h) => {
    s.on('error', () => undefined);
    handler(s, h);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const balancer = new P2cBalancer();
  balancer.update([{ ip: '127.0.0.1', port: (target.address() as AddressInfo).port }]);
  const upstreams = new Upstreams({ connectTimeoutMs: 2000 });
  const server = new GatewayServer({
    host: '127.0.0.1',
    port: 0,
    credentials: gateway,
    maxConnections: 100,
    handshakeTimeoutMs: 5000,
    services: {
      gatewayId: () => GW_ID,
      metrics: new GatewayMetrics(),
      log: createLogger({ level: 'error' }),
      upstreams,
      limits: { maxConcurrentStreams: 100, responseTimeoutMs: 5000, idleTimeoutMs: 60_000, connectTimeoutMs: 2000 },
      resolver: {
        resolve: (name) => {
          if (name !== NAME) throw new GatewayDomainInvalidError();
          return { service: { name: 'api', namespace: 'demo' }, balancer };
        },
      },
    },
  });
  const { port } = await server.start();
  const opened: http2.ClientHttp2Session[] = [];
  t.after(async () => {
    for (const s of opened) s.destroy();
    await server.drain(100);
    upstreams.close();
    target.close();
  });
  return {
    session: async (name = NAME) => {
      const socket = await dialMeshed({ host: '127.0.0.1', port }, client, GW_ID, { port: 80, name, protocol: 'http2' });
      const s = http2.connect(`http://${name}:80`, { createConnection: () => socket });
      s.on('error', () => undefined);
      opened.push(s);
      return s;
    },
    targetSessions: () => sessions,
  };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('the relay rewrites request headers as the gateway must, keeps never-indexed fields never-indexed, and passes the response through', async (t) => {
  let seen: http2.IncomingHttpHeaders = {};
  const { session } = await setup(t, (s, h) => {
    seen = h;
    s.respond({ ':status': 200, 'x-answer': 'yes' });
    s.end('hello');
  });
  const s = await session();
  const reply = await h2Request(s, {
    ':method': 'GET',
    ':path': '/q?x=1',
    forwarded: 'for=10.0.0.1',
    'l5d-client-id': 'forged.identity',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    'x-secret': 'hush',
    [http2.sensitiveHeaders]: ['x-secret'],
  });
  assert.equal(reply.headers[':status'], 200);
  assert.equal(reply.headers['x-answer'], 'yes');
  assert.equal(reply.body.toString(), 'hello');
  assert.equal(seen[':path'], '/q?x=1');
  assert.equal(seen['forwarded'], `for=10.0.0.1, by=${GW_ID};for=${CLIENT_ID};host=${NAME}:80;proto=https`);
  assert.equal(seen['l5d-client-id'], CLIENT_ID, 'the client cannot choose its own l5d-client-id');
  assert.equal(seen['traceparent'], '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  assert.equal(seen['x-secret'], 'hush');
  const sensitive = (seen as Record<symbol, string[] | undefined>)[http2.sensitiveHeaders];
  assert.ok(sensitive?.includes('x-secret'), 'x-secret reached the target as never-indexed');
});

test('4 MB each way passes every window on both legs, and the trailers arrive', async (t) => {
  const { session } = await setup(t, (s) => {
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    s.on('end', () => {
      const body = Buffer.concat(parts);
      s.respond({ ':status': 200, 'content-type': 'application/octet-stream' }, { waitForTrailers: true });
      s.on('wantTrailers', () => s.sendTrailers({ 'x-sha': sha(body) }));
      s.end(Buffer.concat([body, body]));
    });
  });
  const s = await session();
  const upload = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < upload.length; i++) upload[i] = (i * 7) % 256;
  const reply = await h2Request(s, { ':method': 'POST', ':path': '/echo' }, upload);
  assert.equal(reply.body.length, 2 * upload.length);
  assert.equal(sha(reply.body), sha(Buffer.concat([upload, upload])));
  assert.equal(reply.trailers?.['x-sha'], sha(upload));
});

test('requests beyond the target connection stream limit open another connection to the endpoint', async (t) => {
  const held: http2.ServerHttp2Stream[] = [];
  const { session, targetSessions } = await setup(
    t,
    (s, h) => {
      if (h[':path'] === '/warm') {
        s.respond({ ':status': 200 }, { endStream: true });
        return;
      }
      held.push(s);
      if (held.length === 6) for (const x of held) x.respond({ ':status': 200 }, { endStream: true });
    },
    { maxConcurrentStreams: 2 },
  );
  const s = await session();
  // The gateway learns the limit from the target's SETTINGS on its first connection.
  await h2Request(s, { ':path': '/warm' });
  const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => h2Request(s, { ':path': `/${i}` })));
  assert.deepEqual(
    replies.map((r) => r.headers[':status']),
    [200, 200, 200, 200, 200, 200],
  );
  assert.ok(targetSessions() >= 3, `6 concurrent streams at 2 per connection need 3 connections, saw ${targetSessions()}`);
});

test('a target that resets mid-response resets the client stream; the next request still works', async (t) => {
  let n = 0;
  const { session } = await setup(t, (s) => {
    if (++n === 1) {
      s.respond({ ':status': 200 });
      s.write('partial');
      // destroy() resets at once (close() would end the stream gracefully first).
      setImmediate(() => s.destroy(new Error('target failed')));
      return;
    }
    s.respond({ ':status': 200 });
    s.end('fine');
  });
  const s = await session();
  await assert.rejects(h2Request(s, { ':path': '/breaks' }), (err: Error & { code?: string }) => err.code === 'ERR_HTTP2_STREAM_ERROR');
  const ok = await h2Request(s, { ':path': '/next' });
  assert.equal(ok.body.toString(), 'fine');
});

test('an unknown name is answered by the gateway itself with 404 and l5d-proxy-error, over the same relay', async (t) => {
  const { session } = await setup(t, (s) => s.respond({ ':status': 200 }, { endStream: true }));
  const s = await session('nope.demo.svc.cluster.local');
  const reply = await h2Request(s, { ':path': '/' });
  assert.equal(reply.headers[':status'], 404);
  assert.equal(reply.headers['l5d-proxy-error'], 'bad gateway domain');
  assert.equal(reply.body.toString(), 'bad gateway domain\n');
  const grpc = await h2Request(s, { ':method': 'POST', ':path': '/pkg.Svc/Call', 'content-type': 'application/grpc' }, Buffer.alloc(5));
  assert.equal(grpc.headers[':status'], 200);
  assert.equal(grpc.headers['grpc-status'], '5');
});
