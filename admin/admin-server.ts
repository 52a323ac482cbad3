// The admin endpoints every component serves: /metrics (Prometheus text), /ready, /live.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface AdminServerOptions {
  host: string;
  port: number;
  registry: Registry;
  ready: () => boolean;
}

export async function startAdminServer(o: AdminServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      o.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': o.registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
      return;
    }
    if (path === '/live' || path === '/ping') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('live\n');
      return;
    }
    if (path === '/ready') {
      const ok = o.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ready\n' : 'not ready\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`admin address ${o.host}:${o.port} is in use: pass a free one with --metrics-addr`) : err),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  return server;
}

/** Parses `host:port` or `:port` (all interfaces). */
export function parseListenAddr(text: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid listen address "${text}": use host:port or :port, e.g. :9999`);
  }
  const host = m[1] === '' ? '0.0.0.0' : (m[1] ?? '').replace(/^\[|\]$/g, '');
  return { host, port };
}
