// The traffic generator: steady requests to each target through the outbound proxy, counted
// and timed per target on /metrics, which the demo reads for its success-rate and latency table.
import { createServer } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';
import { callJson, type HostPort } from './via-outbound.ts';
import { closeAll, type RunningApp } from './world.ts';

export interface TrafficTarget {
  /** Label in the metrics, e.g. `hello`. */
  name: string;
  authority: string;
  path: string;
  method: 'GET' | 'POST';
}

export interface TrafficOptions {
  host: string;
  metricsPort: number;
  outbound: HostPort;
  targets: readonly TrafficTarget[];
  ratePerSecond: number;
}

/** `name=authority/path` or `name=POST:authority/path`. */
export function parseTarget(text: string): TrafficTarget | undefined {
  const m = /^([a-z0-9-]+)=(?:(GET|POST):)?([^/\s]+)(\/\S*)?$/.exec(text);
  if (!m?.[1] || !m[3]) return undefined;
  return { name: m[1], method: m[2] === 'POST' ? 'POST' : 'GET', authority: m[3], path: m[4] ?? '/' };
}

const LATENCY_BUCKETS_MS = [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000];

export async function startTraffic(o: TrafficOptions): Promise<RunningApp> {
  const registry = new Registry();
  const requests = new Counter({
    name: 'demo_requests_total',
    help: 'Requests sent, by target and outcome',
    labelNames: ['target', 'outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'demo_request_latency_ms',
    help: 'Request latency through the outbound proxy, by target',
    labelNames: ['target'],
    buckets: LATENCY_BUCKETS_MS,
    registers: [registry],
  });
  const timers = o.targets.map((t) =>
    setInterval(() => {
      const start = performance.now();
      callJson(o.outbound, t.authority, t.path, t.method).then(
        () => {
          latency.observe({ target: t.name }, performance.now() - start);
          requests.inc({ target: t.name, outcome: 'success' });
        },
        () => requests.inc({ target: t.name, outcome: 'failure' }),
      );
    }, 1000 / o.ratePerSecond),
  );
  const http = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(req.url === '/ready' || req.url === '/live' ? 200 : 404);
      res.end();
      return;
    }
    void registry.metrics().then((text) => {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => http.listen(o.metricsPort, o.host, resolve));
  return {
    close: async () => {
      for (const t of timers) clearInterval(t);
      await closeAll(http);
    },
  };
}
