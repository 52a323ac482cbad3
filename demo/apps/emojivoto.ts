// The emojivoto-like three tiers (the book's Example 12-9): `web` in cluster1 calls
// `emoji-svc` and `voting-svc` in cluster2 through its outbound proxy.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { errorMessage } from '../../log/logger.ts';
import { callJson, type HostPort } from './via-outbound.ts';
import { closeAll, type RunningApp } from './world.ts';

export const EMOJIS: Readonly<Record<string, string>> = {
  ':doughnut:': '🍩',
  ':rocket:': '🚀',
  ':octopus:': '🐙',
  ':sunflower:': '🌻',
  ':100:': '💯',
};

interface Listen {
  host: string;
  port: number;
  pod: string;
  cluster: string;
}

type Handler = (path: string, method: string) => Promise<unknown>;

async function serve(l: Listen, handle: Handler): Promise<RunningApp> {
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    handle(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/'), req.method ?? 'GET').then(
      (body) => {
        res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body ?? { error: 'not found' }));
      },
      (err: unknown) => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: errorMessage(err) }));
      },
    );
  });
  await new Promise<void>((resolve) => http.listen(l.port, l.host, resolve));
  return { close: () => closeAll(http) };
}

export function startEmoji(l: Listen): Promise<RunningApp> {
  return serve(l, (path) => {
    const served = { pod: l.pod, cluster: l.cluster };
    if (path === '/list') return Promise.resolve({ ...served, emojis: Object.keys(EMOJIS) });
    const m = /^\/find\/(.+)$/.exec(path);
    const emoji = m?.[1] ? EMOJIS[m[1]] : undefined;
    return Promise.resolve(emoji ? { ...served, shortcode: m?.[1], emoji } : undefined);
  });
}

export function startVoting(l: Listen): Promise<RunningApp> {
  const votes = new Map<string, number>();
  return serve(l, (path, method) => {
    const served = { pod: l.pod, cluster: l.cluster };
    if (path === '/results') return Promise.resolve({ ...served, results: Object.fromEntries(votes) });
    const m = /^\/vote\/(.+)$/.exec(path);
    if (m?.[1] && method === 'POST' && m[1] in EMOJIS) {
      votes.set(m[1], (votes.get(m[1]) ?? 0) + 1);
      return Promise.resolve({ ...served, voted: m[1] });
    }
    return Promise.resolve(undefined);
  });
}

export interface WebOptions extends Listen {
  outbound: HostPort;
  /** `name:port` of the emoji and voting services, e.g. emoji-svc-cluster2.emojivoto.svc.cluster.local:8080. */
  emoji: string;
  voting: string;
}

export function startWeb(o: WebOptions): Promise<RunningApp> {
  return serve(o, async (path, method) => {
    if (path === '/') {
      const [list, results] = await Promise.all([callJson(o.outbound, o.emoji, '/list'), callJson(o.outbound, o.voting, '/results')]);
      return { list, results };
    }
    const m = /^\/vote\/(.+)$/.exec(path);
    if (m?.[1] && method === 'POST') {
      const found = await callJson(o.outbound, o.emoji, `/find/${encodeURIComponent(m[1])}`);
      const vote = await callJson(o.outbound, o.voting, `/vote/${encodeURIComponent(m[1])}`, 'POST');
      return { found, vote };
    }
    return undefined;
  });
}
