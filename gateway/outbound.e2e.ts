// `multicluster outbound` in cluster1 → destination API (real `multicluster destination`) →
// mirrored Service with gateway endpoints (real mirror) → real gateway in cluster2 → target
// pods: the path a linkerd2-proxy's request takes, with HTTP/1, HTTP/2 (gRPC) and TCP callers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import * as http2 from 'node:http2';
import { connect } from 'node:net';
import { freePort } from '../dev/control-plane.ts';
import { ManagedProcess, waitFor } from '../dev/managed-process.ts';
import { BIN, cli } from '../e2e/fixtures/cli.ts';
import { linkedPair } from '../e2e/fixtures/linked-pair.ts';
import { grpcFrame, grpcMessages, h2Request } from '../e2e/fixtures/linkerd-client.ts';
import { createMeshPki, setLinkGatewayAddress, startRealGatewayPod } from '../e2e/fixtures/real-gateway.ts';
import { workloadCommand } from '../e2e/workloads/launch.ts';

const WEB_ID = 'web.demo.serviceaccount.identity.linkerd.cluster.local';
const MIRROR = 'web-cluster2.demo.svc.cluster.local';

function get(port: number, host: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('multicluster outbound reaches a remote Service through the destination API and the real gateway', async (t) => {
  const lp = await linkedPair();
  const procs: ManagedProcess[] = [];
  try {
    const pki = await createMeshPki();
    for (const core of [lp.core1, lp.core2]) await core.createNamespace({ body: { metadata: { name: 'demo' } } });
    await lp.core2.createNamespacedService({
      namespace: 'demo',
      body: {
        metadata: { name: 'web', labels: { 'mirror.linkerd.io/exported': 'true' } },
        spec: {
          selector: { app: 'target' },
          ports: [
            { name: 'http', port: 80, targetPort: 8080 },
            { name: 'grpc', port: 8081, targetPort: 8081 },
            { name: 'tcp', port: 9000, targetPort: 9000 },
          ],
        },
      },
    });
    await lp.pair.cluster2.pods.start({
      namespace: 'demo',
      name: 'target-0',
      labels: { app: 'target' },
      command: workloadCommand('gateway-target.ts'),
      ports: [{ containerPort: 8080 }, { containerPort: 8081 }, { containerPort: 9000 }],
      readinessPort: 9000,
    });
    await lp.gateway.delete();
    const gw = await startRealGatewayPod(lp.pair, pki);
    await setLinkGatewayAddress(lp, gw.ip);
    const mirror = await lp.startMirror();
    await waitFor(
      'the mirror web-cluster2 with ready gateway endpoints',
      async () => {
        const ep = await lp.core1.readNamespacedEndpoints({ name: 'web-cluster2', namespace: 'demo' }).catch(() => undefined);
        return ep?.subsets?.[0]?.addresses?.some((a) => a.ip === gw.ip) ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );

    const [dstPort, dstAdmin, h1Port, h2Port, tcpPort, outAdmin] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const start = async (name: string, args: string[]): Promise<ManagedProcess> => {
      const p = await ManagedProcess.start({ name, command: process.execPath, args: [BIN, ...args], stateDir: lp.pair.stateDir });
      procs.push(p);
      return p;
    };
    const kube1 = ['--kubeconfig', lp.pair.kubeconfigPath, '--context', lp.pair.cluster1.context];
    await start('destination', ['destination', '--listen', `127.0.0.1:${dstPort}`, '--admin-listen', `127.0.0.1:${dstAdmin}`, ...kube1]);
    const outbound = await start('outbound', [
      'outbound',
      '--issuer-cert',
      pki.issuerCertFile,
      '--issuer-key',
      pki.issuerKeyFile,
      '--trust-anchors',
      pki.trustAnchorsFile,
      '--identity',
      WEB_ID,
      '--destination-addr',
      `127.0.0.1:${dstPort}`,
      '--http1-listen',
      `127.0.0.1:${h1Port}`,
      '--http2-listen',
      `127.0.0.1:${h2Port}`,
      '--tcp-listen',
      `127.0.0.1:${tcpPort}=${MIRROR}:9000`,
      '--admin-listen',
      `127.0.0.1:${outAdmin}`,
      '--log-level',
      'debug',
    ]);

    const first = await waitFor(
      'an HTTP/1 request through outbound',
      async () => {
        const r = await get(h1Port, `${MIRROR}:80`, '/via-outbound');
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 30_000, onTimeout: () => outbound.lastLog(40) },
    );

    await t.test('HTTP/1 callers are upgraded to HTTP/2 towards the gateway and downgraded back', () => {
      const seen = JSON.parse(first.body) as { path: string; httpVersion: string; headers: Record<string, string> };
      assert.equal(seen.path, '/via-outbound');
      assert.equal(seen.headers['host'], 'web.demo.svc.cluster.local:80', 'the authority override names the remote Service');
      assert.equal(seen.headers['l5d-client-id'], WEB_ID);
      assert.match(seen.headers['forwarded'] ?? '', new RegExp(`for=${WEB_ID};host=web\\.demo\\.svc\\.cluster\\.local:80;proto=https$`));
      assert.equal(first.headers['l5d-orig-proto'], undefined, 'the marker is stripped before the caller sees the answer');
    });

    await t.test('HTTP/2 callers (gRPC) go through with trailers', async () => {
      const session = http2.connect(`http://127.0.0.1:${h2Port}`);
      try {
        const r = await h2Request(
          session,
          { ':method': 'POST', ':path': '/test.Echo/Count', ':authority': `${MIRROR}:8081`, 'content-type': 'application/grpc', te: 'trailers' },
          grpcFrame(Buffer.from('3')),
        );
        assert.deepEqual(grpcMessages(r.body), ['1', '2', '3']);
        assert.equal(r.trailers?.['grpc-status'], '0');
      } finally {
        session.close();
      }
    });

    await t.test('WebSocket upgrades from HTTP/1 callers travel over an HTTP/1 session to the gateway', async () => {
      const s = connect({ host: '127.0.0.1', port: h1Port });
      s.write(
        `GET /ws HTTP/1.1\r\nhost: ${MIRROR}:80\r\nupgrade: websocket\r\nconnection: Upgrade\r\n` +
          'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n',
      );
      const head = await new Promise<string>((resolve) => s.once('data', (c: Buffer) => resolve(c.toString())));
      assert.match(head, /^HTTP\/1\.1 101 /);
      assert.match(head, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
      const echoed = new Promise<string>((resolve) => s.once('data', (c: Buffer) => resolve(c.toString())));
      s.write('ws-bytes');
      assert.equal(await echoed, 'ws-bytes');
      s.destroy();
    });

    await t.test('TCP callers get an opaque pipe with half-close', async () => {
      const s = connect({ host: '127.0.0.1', port: tcpPort, allowHalfOpen: true });
      let data = '';
      s.on('data', (c: Buffer) => (data += c.toString()));
      const closed = new Promise((resolve) => s.once('close', resolve));
      s.end('over-tcp');
      await closed;
      assert.equal(data, 'target-0:over-tcp');
    });

    await t.test('`multicluster gateways` shows the real gateway ALIVE with its probe latency', async () => {
      const table = await waitFor(
        'a gateways row with latency',
        async () => {
          const out = await cli([
            'gateways',
            '--metrics-url',
            `cluster2=http://127.0.0.1:${mirror.metricsPort}/metrics`,
            '--kubeconfig',
            lp.pair.kubeconfigPath,
            '--context',
            lp.pair.cluster1.context,
          ]);
          return /p50=/.test(out) ? out : undefined;
        },
        { timeoutMs: 30_000 },
      );
      assert.match(table, /^cluster2\s+True\s+1\s+p50=[\d.]+ms/m);
    });

    await t.test('outbound counts its requests per target, in Linkerd names with direction="outbound"', async () => {
      const m = await (await fetch(`http://127.0.0.1:${outAdmin}/metrics`)).text();
      assert.match(
        m,
        new RegExp(
          `request_total\\{client_id="${WEB_ID}",authority="${MIRROR}:80",target_service="web-cluster2.demo",direction="outbound",tls="true"\\} [1-9]`,
        ),
      );
      assert.match(m, new RegExp(`response_total\\{[^}]*authority="${MIRROR}:8081"[^}]*status_code="200",classification="success",grpc_status="0"`));
    });

    await t.test('the gateway counted the caller by its identity', async () => {
      const m = await (await fetch(`http://${gw.ip}:4191/metrics`)).text();
      assert.match(
        m,
        new RegExp(
          `inbound_tcp_transport_header_connections_total\\{session_protocol="http/2",target_port="80",target_name="web.demo.svc.cluster.local",client_id="${WEB_ID}"\\} 1`,
        ),
      );
      assert.match(
        m,
        new RegExp(
          `inbound_tcp_transport_header_connections_total\\{session_protocol="",target_port="9000",target_name="web.demo.svc.cluster.local",client_id="${WEB_ID}"\\} 1`,
        ),
      );
    });
  } finally {
    for (const p of procs) await p.stop();
    await lp.stop();
  }
});
