// A tiny HTTP stand-in for kube-apiserver, for unit tests of the read paths only: each route
// answers a fixed status and body. Real API behaviour is covered by the e2e suite.
import type { IncomingMessage, Server } from 'node:http';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export type Route = (req: IncomingMessage, body: string) => { status: number; body: unknown };

export interface FakeApiServer {
  url: string;
  /** `METHOD path?query` of every request, in order. */
  requests: string[];
  /** Writes a kubeconfig with one context `fake` pointing here; returns its path. */
  kubeconfig(): string;
  close(): Promise<void>;
}

const notFound = (path: string) => ({
  status: 404,
  body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${path} not found` },
});

export const status = (code: number, message: string) => ({
  status: code,
  body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, message },
});

/** Routes are keyed by `METHOD /path` (without the query string). */
export async function startFakeApiServer(routes: Record<string, Route>): Promise<FakeApiServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const url = req.url ?? '/';
      requests.push(`${req.method ?? 'GET'} ${url}`);
      const path = url.split('?')[0] ?? url;
      const route = routes[`${req.method ?? 'GET'} ${path}`];
      const answer = route ? route(req, body) : notFound(path);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake API server has no port');
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    requests,
    kubeconfig: () => writeKubeconfig(url, true),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A kubeconfig file with one context `fake`; http needs insecure-skip-tls-verify in client-node. */
export function writeKubeconfig(server: string, insecure: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'mc-link-test-'));
  const path = join(dir, 'kubeconfig');
  const cluster: Record<string, unknown> = { server };
  if (insecure) cluster['insecure-skip-tls-verify'] = true;
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake-cluster', cluster }],
      contexts: [{ name: 'fake', context: { cluster: 'fake-cluster', user: 'admin' } }],
      'current-context': 'fake',
      users: [{ name: 'admin', user: { token: 'admin-token' } }],
    }),
  );
  return path;
}
