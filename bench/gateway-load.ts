// Load generators for the gateway benchmark: open-loop HTTP/2 at a fixed rate (latency),
// closed-loop HTTP/2 (maximum throughput), and one bulk TCP transfer.
import type * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';

/** Open loop: `rps` requests a second for `seconds`, spread over `sessions`; returns latencies in ms. */
export async function fixedRate(
  sessions: http2.ClientHttp2Session[],
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
        const session = sessions[sent % sessions.length] as http2.ClientHttp2Session;
        const t0 = performance.now();
        inflight++;
        sent++;
        const req = session.request({ ':path': '/', ':authority': authority });
        req.on('response', () => undefined);
        req.on('data', () => undefined);
        req.on('end', () => {
          latencies.push(performance.now() - t0);
          if (--inflight === 0 && sent === total) resolve();
        });
        req.on('error', () => {
          errors++;
          if (--inflight === 0 && sent === total) resolve();
        });
        req.end();
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  return { latencies, errors };
}

/** Closed loop: `concurrency` requests always in flight for `seconds`; returns completed requests (and per second). */
export async function maxRate(
  sessions: http2.ClientHttp2Session[],
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
        const req = (sessions[i % sessions.length] as http2.ClientHttp2Session).request({ ':path': '/', ':authority': authority });
        req.on('data', () => undefined);
        req.on('end', () => {
          done++;
          one();
        });
        req.on('error', () => one());
        req.end();
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
