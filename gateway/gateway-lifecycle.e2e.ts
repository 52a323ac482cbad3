// The real gateway's life cycle in cluster2: the admin port as a meshed probe reaches it, the
// mirror in cluster1 seeing it alive, an endpoint dying mid-stream, and a SIGTERM drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { waitFor } from '../dev/managed-process.ts';
import { gatewayScenario, WEB } from '../e2e/fixtures/gateway-scenario.ts';
import { grpcFrame, grpcMessages, h2Request, h2Session, rawTls } from '../e2e/fixtures/linkerd-client.ts';
import { GATEWAY_ID, setLinkGatewayAddress } from '../e2e/fixtures/real-gateway.ts';

test('the gateway answers probes, survives an endpoint dying mid-stream, and drains on SIGTERM', async (t) => {
  const sc = await gatewayScenario();
  const { lp, pki, web, gw, gwPod, targets } = sc;
  try {
    const grpcSession = await h2Session(gw, web, GATEWAY_ID, { port: 8081, name: WEB });
    const grpcCall = (method: string, msg: string) =>
      h2Request(
        grpcSession,
        { ':method': 'POST', ':path': `/test.Echo/${method}`, 'content-type': 'application/grpc', te: 'trailers' },
        grpcFrame(Buffer.from(msg)),
      );

    await t.test('the admin port answers a meshed probe: mTLS, HTTP/2, l5d-orig-proto', async () => {
      const s = await rawTls({ host: gwPod.ip, port: 4191 }, { creds: web, ca: pki.trustAnchorsPem, servername: GATEWAY_ID });
      const probe = http2.connect(`http://${gwPod.ip}:4191`, { createConnection: () => s });
      const r = await h2Request(probe, { ':path': '/ready', 'l5d-orig-proto': 'HTTP/1.1' });
      assert.equal(r.headers[':status'], 200);
      assert.equal(r.headers['l5d-orig-proto'], 'HTTP/1.1');
      assert.equal(r.body.toString(), 'ready\n');
      probe.close();
      assert.equal((await fetch(`http://${gwPod.ip}:4191/live`)).status, 200);
    });

    await t.test("the mirror's probe sees the real gateway alive", async () => {
      await setLinkGatewayAddress(lp, gwPod.ip);
      const mirror = await lp.startMirror();
      await waitFor(
        'gateway_alive 1',
        async () => (/gateway_alive\{target_cluster_name="cluster2"\} 1/.test(await mirror.metrics()) ? true : undefined),
        {
          timeoutMs: 30_000,
        },
      );
    });
    await t.test('an endpoint dying mid-stream resets the stream, and requests move to the surviving endpoint', async () => {
      const s = await h2Session(gw, web, GATEWAY_ID, { port: 8081, name: WEB });
      const req = s.request({ ':method': 'POST', ':path': '/test.Echo/Ticks', 'content-type': 'application/grpc', te: 'trailers' });
      req.end(grpcFrame(Buffer.from('')));
      const firstTick = await new Promise<string>((resolve) => req.once('data', (c: Buffer) => resolve(grpcMessages(c)[0] ?? '')));
      const victim = targets.find((p) => p.spec.name === firstTick.split(':')[0]);
      assert.ok(victim, `a target pod sent ${firstTick}`);
      let trailers: http2.IncomingHttpHeaders | undefined;
      req.on('trailers', (h: http2.IncomingHttpHeaders) => (trailers = h));
      req.on('error', () => undefined);
      const closed = new Promise<number>((resolve) => req.once('close', () => resolve(req.rstCode ?? 0)));
      req.resume();
      await victim.kill();
      assert.notEqual(await closed, 0, 'the client stream was reset, not left hanging or ended as if complete');
      assert.equal(trailers?.['grpc-status'], undefined);

      const statuses: string[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await grpcCall('Echo', 'after');
        const status = String(r.trailers?.['grpc-status'] ?? r.headers['grpc-status']);
        statuses.push(status === '0' ? (grpcMessages(r.body)[0] ?? '') : status);
      }
      const survivor = targets.find((p) => p !== victim)?.spec.name ?? '';
      assert.deepEqual(statuses.slice(-5), Array(5).fill(`${survivor}:after`), `once ejected the dead endpoint is skipped: ${statuses.join(' ')}`);
      s.close();
    });

    await t.test('SIGTERM drains: an in-flight request finishes, then the gateway exits', async () => {
      const s = await h2Session(gw, web, GATEWAY_ID, { port: 80, name: WEB });
      const inflight = h2Request(s, { ':path': '/slow?ms=1500', 'l5d-orig-proto': 'HTTP/1.1' });
      // Let the request reach the target before the signal.
      await new Promise((resolve) => setTimeout(resolve, 300));
      process.kill(gwPod.process.pid, 'SIGTERM');
      const r = await inflight;
      assert.equal(r.headers[':status'], 200);
      assert.match(r.body.toString(), /^slow target-/);
      await waitFor('the gateway to exit', () => Promise.resolve(gwPod.process.running ? undefined : true), {
        timeoutMs: 30_000,
        onTimeout: () => gwPod.process.lastLog(),
      });
      assert.equal(gwPod.process.exitCode, 0);
    });
    grpcSession.close();
  } finally {
    await sc.stop();
  }
});
