// The real gateway as cluster2's gateway pod, driven by a client that behaves like a Linkerd
// client proxy (mTLS from the mesh PKI, ALPN, transport header), against real target
// processes behind real Services and EndpointSlices: forwarding by session protocol, the
// upstream error answers, and every refusal counted while others keep being served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { gatewayScenario, WEB, WEB_ID } from '../e2e/fixtures/gateway-scenario.ts';
import {
  closedWith,
  dechunk,
  grpcFrame,
  grpcMessages,
  h2Request,
  h2Session,
  metricValue,
  rawTls,
  REFUSED_CONNECTION_ERRORS,
} from '../e2e/fixtures/linkerd-client.ts';
import { createMeshPki, GATEWAY_ID } from '../e2e/fixtures/real-gateway.ts';
import { encodeTransportHeader } from '../proto/transport-header.ts';
import { dialMeshed } from './outbound-connect.ts';

test('the gateway forwards HTTP/1, HTTP/2, gRPC, WebSocket and opaque TCP, and refuses what upstream refuses', async (t) => {
  const sc = await gatewayScenario();
  const { pki, web, admin, gw } = sc;
  const metrics = (): Promise<string> => sc.metrics();
  try {
    const foreign = await createMeshPki();
    const session = await h2Session(gw, web, GATEWAY_ID, { port: 80, name: WEB });
    const first = await h2Request(session, {
      ':path': '/hello',
      'l5d-orig-proto': 'HTTP/1.1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      b3: '80f198ee56343ba8-e457b5a2e4d86bd1-1',
    });

    await t.test('HTTP/2 with l5d-orig-proto reaches an HTTP/1 target with Forwarded, l5d-client-id and trace headers intact', () => {
      assert.equal(first.headers['l5d-orig-proto'], 'HTTP/1.1');
      const seen = JSON.parse(first.body.toString()) as { path: string; httpVersion: string; headers: Record<string, string> };
      assert.equal(seen.path, '/hello');
      assert.equal(seen.httpVersion, '1.1');
      assert.equal(seen.headers['host'], `${WEB}:80`);
      assert.equal(seen.headers['forwarded'], `by=${GATEWAY_ID};for=${WEB_ID};host=${WEB}:80;proto=https`);
      assert.equal(seen.headers['l5d-client-id'], WEB_ID);
      assert.equal(seen.headers['traceparent'], '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      assert.equal(seen.headers['b3'], '80f198ee56343ba8-e457b5a2e4d86bd1-1');
      assert.equal(seen.headers['l5d-orig-proto'], undefined);
    });

    const grpcSession = await h2Session(gw, web, GATEWAY_ID, { port: 8081, name: WEB });
    const grpcCall = (method: string, msg: string) =>
      h2Request(
        grpcSession,
        { ':method': 'POST', ':path': `/test.Echo/${method}`, 'content-type': 'application/grpc', te: 'trailers' },
        grpcFrame(Buffer.from(msg)),
      );

    await t.test('gRPC unary, server streaming and error statuses survive with their trailers', async () => {
      const unary = await grpcCall('Echo', 'hi');
      assert.equal(unary.trailers?.['grpc-status'], '0');
      assert.match(grpcMessages(unary.body)[0] ?? '', /^target-[01]:hi$/);
      assert.equal(unary.trailers?.['x-client-id'], WEB_ID);
      assert.match(String(unary.trailers?.['x-forwarded']), new RegExp(`^by=${GATEWAY_ID};for=${WEB_ID};host=${WEB}:8081;proto=https$`));
      const stream = await grpcCall('Count', '5');
      assert.deepEqual(grpcMessages(stream.body), ['1', '2', '3', '4', '5']);
      assert.equal(stream.trailers?.['grpc-status'], '0');
      const failed = await grpcCall('Fail', '');
      assert.equal(failed.trailers?.['grpc-status'] ?? failed.headers['grpc-status'], '9');
    });

    await t.test('HTTP/1 sessions work without a Host header (authority in the URI)', async () => {
      const s = await dialMeshed(gw, web, GATEWAY_ID, { port: 80, name: WEB, protocol: 'http1' });
      const done = closedWith(s);
      s.write(`GET http://${WEB}:80/abs?x=1 HTTP/1.1\r\nconnection: close\r\n\r\n`);
      const { data } = await done;
      assert.match(data, /^HTTP\/1\.1 200 /);
      const body = JSON.parse(dechunk(data.slice(data.indexOf('\r\n\r\n') + 4))) as { path: string; headers: Record<string, string> };
      assert.equal(body.path, '/abs?x=1');
      assert.equal(body.headers['host'], `${WEB}:80`);
      assert.equal(body.headers['l5d-client-id'], WEB_ID);
    });

    await t.test('a WebSocket upgrade over an HTTP/1 session becomes a two-way pipe', async () => {
      const s = await dialMeshed(gw, web, GATEWAY_ID, { port: 80, name: WEB, protocol: 'http1' });
      s.write(
        `GET /ws HTTP/1.1\r\nhost: ${WEB}:80\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n`,
      );
      const head = await new Promise<string>((resolve) => s.once('data', (c: Buffer) => resolve(c.toString())));
      assert.match(head, /^HTTP\/1\.1 101 /);
      assert.match(head, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
      const echoed = new Promise<string>((resolve) => s.once('data', (c: Buffer) => resolve(c.toString())));
      s.write('frame-bytes');
      assert.equal(await echoed, 'frame-bytes');
      s.destroy();
    });

    await t.test('opaque TCP is piped both ways and half-close reaches the target', async () => {
      const s = await dialMeshed(gw, web, GATEWAY_ID, { port: 9000, name: WEB });
      const done = closedWith(s);
      s.write('abc');
      s.end('def');
      const { data, closed } = await done;
      assert.ok(closed);
      assert.match(data, /^target-[01]:abcdef$/);
    });

    await t.test('unknown domains, loops and unauthorized clients get upstream errors on a connection that keeps serving', async () => {
      const nope = await h2Session(gw, web, GATEWAY_ID, { port: 80, name: 'nope.demo.svc.cluster.local' });
      const r404 = await h2Request(nope, { ':path': '/' });
      assert.equal(r404.headers[':status'], 404);
      assert.equal(r404.headers['l5d-proxy-error'], 'bad gateway domain');
      const g404 = await h2Request(
        nope,
        { ':method': 'POST', ':path': '/test.Echo/Echo', 'content-type': 'application/grpc' },
        grpcFrame(Buffer.from('x')),
      );
      assert.equal(g404.headers['grpc-status'], '5');
      const outside = await h2Session(gw, web, GATEWAY_ID, { port: 80, name: 'web.demo.svc.other.domain' });
      assert.equal((await h2Request(outside, { ':path': '/' })).headers[':status'], 404);

      const loopSession = await h2Session(gw, web, GATEWAY_ID, { port: 80, name: WEB });
      const loopClosed = new Promise<void>((resolve) => loopSession.once('close', resolve));
      const loop = await h2Request(loopSession, {
        ':path': '/',
        'l5d-orig-proto': 'HTTP/1.1',
        forwarded: `by=${GATEWAY_ID};for=x;host=${WEB}:80;proto=https`,
      });
      assert.equal(loop.headers[':status'], 508);
      assert.equal(loop.headers['l5d-proxy-error'], 'gateway loop detected');
      assert.equal(loop.headers['l5d-proxy-connection'], 'close');
      await loopClosed;

      const empty = await h2Session(gw, web, GATEWAY_ID, { port: 80, name: 'empty.demo.svc.cluster.local' });
      const r503 = await h2Request(empty, { ':path': '/', 'l5d-orig-proto': 'HTTP/1.1' });
      assert.equal(r503.headers[':status'], 503);
      assert.equal(r503.headers['l5d-proxy-error'], 'service has no ready endpoints');
      const r504 = await h2Request(session, { ':path': '/slow?ms=4000', 'l5d-orig-proto': 'HTTP/1.1' });
      assert.equal(r504.headers[':status'], 504);
      assert.equal(r504.headers['l5d-proxy-error'], 'upstream request timed out');
      empty.close();

      const denied = await h2Session(gw, web, GATEWAY_ID, { port: 80, name: 'secret.demo.svc.cluster.local' });
      assert.equal((await h2Request(denied, { ':path': '/', 'l5d-orig-proto': 'HTTP/1.1' })).headers[':status'], 403);
      const allowed = await h2Session(gw, admin, GATEWAY_ID, { port: 80, name: 'secret.demo.svc.cluster.local' });
      assert.equal((await h2Request(allowed, { ':path': '/', 'l5d-orig-proto': 'HTTP/1.1' })).headers[':status'], 200);
      const vaultDenied = await h2Session(gw, web, GATEWAY_ID, { port: 80, name: 'vault.demo.svc.cluster.local' });
      assert.equal((await h2Request(vaultDenied, { ':path': '/', 'l5d-orig-proto': 'HTTP/1.1' })).headers[':status'], 403, 'the policy file applies');
      const vaultAllowed = await h2Session(gw, admin, GATEWAY_ID, { port: 80, name: 'vault.demo.svc.cluster.local' });
      assert.equal((await h2Request(vaultAllowed, { ':path': '/', 'l5d-orig-proto': 'HTTP/1.1' })).headers[':status'], 200);
      for (const s of [nope, outside, denied, allowed, vaultDenied, vaultAllowed]) s.close();
    });

    await t.test('connections without proper mTLS, ALPN or header are closed and counted; others are unaffected', async () => {
      const refused = async (s: TLSSocket, send?: (s: TLSSocket) => void): Promise<void> => {
        const done = closedWith(s);
        send?.(s);
        const r = await done;
        assert.ok(r.closed, 'the gateway closed the connection');
      };
      const alpn = ['transport.l5d.io/v1'];
      await refused(await rawTls(gw, { ca: pki.trustAnchorsPem, alpn, servername: GATEWAY_ID }), (s) =>
        s.write(encodeTransportHeader({ port: 80, name: WEB })),
      );
      await refused(await rawTls(gw, { creds: await foreign.credentials(WEB_ID), ca: pki.trustAnchorsPem, alpn, servername: GATEWAY_ID }));
      const expired = await pki.credentials(WEB_ID, { lifetimeMs: 60_000, now: new Date(Date.now() - 3_600_000) });
      await refused(await rawTls(gw, { creds: expired, ca: pki.trustAnchorsPem, alpn, servername: GATEWAY_ID }));
      await refused(await rawTls(gw, { creds: web, ca: pki.trustAnchorsPem, servername: GATEWAY_ID }), (s) =>
        s.write(encodeTransportHeader({ port: 80, name: WEB })),
      );
      await refused(await rawTls(gw, { creds: web, ca: pki.trustAnchorsPem, alpn, servername: GATEWAY_ID }), (s) =>
        s.write('GET / HTTP/1.1\r\n\r\n'),
      );
      await refused(await rawTls(gw, { creds: web, ca: pki.trustAnchorsPem, alpn, servername: GATEWAY_ID }), (s) =>
        s.end(encodeTransportHeader({ port: 80, name: WEB }).subarray(0, 30)),
      );

      const again = await h2Request(session, { ':path': '/still', 'l5d-orig-proto': 'HTTP/1.1' });
      assert.equal(again.headers[':status'], 200, 'the long-lived session kept working throughout');

      const m = await metrics();
      for (const error of REFUSED_CONNECTION_ERRORS) {
        assert.equal(metricValue(m, 'inbound_tcp_errors_total', { error }), 1, error);
      }
      for (const error of ['domain_invalid', 'loop', 'unauthorized']) assert.ok(metricValue(m, 'inbound_http_errors_total', { error }) >= 1, error);
      assert.ok(metricValue(m, 'response_total', { client_id: WEB_ID, authority: `${WEB}:80`, status_code: '200', classification: 'success' }) >= 2);
      assert.ok(metricValue(m, 'response_total', { client_id: WEB_ID, authority: `${WEB}:8081`, grpc_status: '0' }) >= 2);
      assert.ok(metricValue(m, 'response_total', { client_id: WEB_ID, grpc_status: '9', classification: 'failure' }) >= 1);
      assert.equal(
        metricValue(m, 'inbound_tcp_transport_header_connections_total', {
          session_protocol: 'http/1',
          target_port: '80',
          target_name: WEB,
          client_id: WEB_ID,
        }),
        2,
      );
      assert.ok(metricValue(m, 'tcp_open_total', { client_id: WEB_ID }) >= 5);
      assert.ok(metricValue(m, 'tcp_read_bytes_total', { client_id: WEB_ID }) > 0);
      assert.match(m, /response_latency_ms_bucket\{[^}]*le="50000"/);
    });

    await t.test('slow clients are cut: a silent TCP connection at the handshake deadline, a silent TLS one at the header deadline', async () => {
      const tcp = connect({ host: gw.host, port: gw.port });
      const silentTls = await rawTls(gw, { creds: web, ca: pki.trustAnchorsPem, alpn: ['transport.l5d.io/v1'], servername: GATEWAY_ID });
      const [a, b] = await Promise.all([closedWith(tcp, 30_000), closedWith(silentTls, 30_000)]);
      assert.ok(a.closed && b.closed);
      const m = await metrics();
      assert.ok(metricValue(m, 'inbound_tcp_errors_total', { error: 'tls_handshake' }) >= 1);
      assert.equal(metricValue(m, 'inbound_tcp_errors_total', { error: 'header_timeout' }), 1);
    });

    session.close();
    grpcSession.close();
  } finally {
    await sc.stop();
  }
});
