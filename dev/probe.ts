// One probe attempt as the kubelet makes it: httpGet (2xx/3xx is success, HTTPS without
// verification) or tcpSocket, against the pod IP, which the host reaches through the router.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { canConnect } from './pod-runner.ts';

export interface ProbeResult {
  ok: boolean;
  message: string;
}

export function probePort(c: V1Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

export async function probeOnce(probe: V1Probe, c: V1Container, podIp: string): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const g = probe.httpGet;
    const port = probePort(c, g.port);
    if (port === undefined) return { ok: false, message: `probe port "${String(g.port)}" is not a port of the container` };
    const request = g.scheme === 'HTTPS' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const req = request(
        {
          host: g.host ?? podIp,
          port,
          path: g.path ?? '/',
          method: 'GET',
          timeout: timeoutMs,
          rejectUnauthorized: false,
          headers: { 'user-agent': 'kube-probe/dev-agent', ...Object.fromEntries((g.httpHeaders ?? []).map((h) => [h.name, h.value])) },
        },
        (res) => {
          res.resume();
          const code = res.statusCode ?? 0;
          resolve({ ok: code >= 200 && code < 400, message: `HTTP probe failed with statuscode: ${code}` });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on('error', (err) => resolve({ ok: false, message: `Get "http://${podIp}:${port}${g.path ?? '/'}": ${err.message}` }));
      req.end();
    });
  }
  if (probe.tcpSocket) {
    const port = probePort(c, probe.tcpSocket.port);
    if (port === undefined) return { ok: false, message: `probe port "${String(probe.tcpSocket.port)}" is not a port of the container` };
    const ok = await canConnect(probe.tcpSocket.host ?? podIp, port);
    return { ok, message: ok ? '' : `dial tcp ${podIp}:${port}: connection refused` };
  }
  return { ok: false, message: 'only httpGet and tcpSocket probes are supported by the dev agent' };
}
