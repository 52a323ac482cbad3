// Load generators for the gateway benchmark: open-loop HTTP/2 at a fixed rate (latency),
// closed-loop HTTP/2 (maximum throughput), and one bulk TCP transfer. The HTTP/2 client is
// either node:http2 or the frame engine of h2/ (lighter, so that on two cores the client
// takes less of the core it shares with the target).
import type * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { H2Connection } from '../h2/connection.ts';

/** One GET of `/` on a client connection; `done(ok)` once the response ended or failed. */
export interface LoadSession {
  get(authority: string, done: (ok: boolean) => void): void;
  close(): void;
}

export function nodeSession(session: http2.ClientHttp2Session): LoadSession {
  return {
    get(authority, done) {
      const req = session.request({ ':path': '/', ':authority': authority });
      req.on('data', () => undefined);
      req.on('end', () => done(true));
      req.on('error', () => done(false));
      req.end();
    },
    close: () => session.close(),
  };
}

export function engineSession(socket: Duplex): LoadSession {
  const conn = new H2Connection(socket, { role: 'client' });
  return {
    get(authority, done) {
      const s = conn.request([':method', 'GET', ':scheme', 'http', ':authority', authority, ':path', '/'], true);
      s.onData = (_chunk, end) => {
        s.consumeAll();
        if (end) done(true);
      };
      s.onHeaders = (_h, end) => {
        if (end) done(true);
      };
      s.onReset = () => done(false);
    },
    close: () => conn.close(),
  };
}

/** Open loop: `rps` requests a second for `seconds`, spread over `sessions`; returns latencies in ms. */
export async function fixedRate(
  sessions: LoadSession[],
  authority: string,
  rps: number,
  seconds: number,
): Promise<{ latencies: number[]; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let inflight = 0;
  const total = rps * seconds;
  let sent = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rps));
      while (sent < due) {
        const session = sessions[sent % sessions.length] as LoadSession;
        const t0 = performance.now();
        inflight++;
        sent++;
        session.get(authority, (ok) => {
          if (ok) latencies.push(performance.now() - t0);
          else errors++;
          if (--inflight === 0 && sent === total) resolve();
        });
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  return { latencies, errors };
}

/** Closed loop: `concurrency` requests always in flight for `seconds`; returns completed requests (and per second). */
export async function maxRate(
  sessions: LoadSession[],
  authority: string,
  concurrency: number,
  seconds: number,
): Promise<{ rps: number; requests: number }> {
  let done = 0;
  let stop = false;
  const worker = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const one = (): void => {
        if (stop) return resolve();
        (sessions[i % sessions.length] as LoadSession).get(authority, (ok) => {
          if (ok) done++;
          one();
        });
      };
      one();
    });
  const start = performance.now();
  const workers = Array.from({ length: concurrency }, (_, i) => worker(i));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const counted = done;
  const elapsed = (performance.now() - start) / 1000;
  stop = true;
  await Promise.all(workers);
  return { rps: counted / elapsed, requests: done };
}

/** Writes `bytes` with backpressure, half-closes, and waits for the sink's byte count; returns MB/s. */
export async function bulk(socket: Duplex, bytes: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 7);
  const start = performance.now();
  const reply = new Promise<string>((resolve, reject) => {
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  let written = 0;
  while (written < bytes) {
    written += chunk.length;
    if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
  }
  socket.end();
  const got = Number(await reply);
  if (got !== written) throw new Error(`sink received ${got} of ${written} bytes`);
  return written / 1e6 / ((performance.now() - start) / 1000);
}
