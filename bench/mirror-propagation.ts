// Propagation latency: a remote write, timed from just before the request until the
// benchmark's own watch on the local cluster shows its effect. Label flips unexport and
// re-export a Service (mirror deleted, then created with ready Endpoints); endpoint flips
// set the remote slice's endpoint unready and ready (mirror Endpoints lose and regain
// their address).
import type { BenchMirror } from './bench-pair.ts';
import { serviceName, type RemoteServices } from './mirror-fixture.ts';
import { WaitTimeoutError, type MirrorWatch } from './mirror-watch.ts';
import { cpuSeconds } from './proc-stats.ts';
import { sumOf } from './prom-text.ts';

export interface Latencies {
  samples: number[];
  timeouts: number;
}

const CLUSTER = 'cluster2';
const STEP_TIMEOUT_MS = 10_000;
/** "Idle": under this much CPU (in cores) over IDLE_WINDOW_MS, with an empty queue. */
const IDLE_CORES = 0.15;
const IDLE_WINDOW_MS = 300;
const SETTLE_BOUND_MS = 10_000;

export function emptyFlipLatencies(): FlipLatencies {
  const empty = (): Latencies => ({ samples: [], timeouts: 0 });
  return { unexport: empty(), reexport: empty(), endpointUnready: empty(), endpointReady: empty() };
}

export type FlipLatencies = { unexport: Latencies; reexport: Latencies; endpointUnready: Latencies; endpointReady: Latencies };

/** A propagation that completed: the mirror's name, and when the write was sent and its effect seen (performance.now()). */
export type OnPropagated = (kind: 'label' | 'endpoint', mirror: string, writeAt: number, seenAt: number) => Promise<void>;

/** Unexport + re-export each picked Service, then unready + ready its endpoint; `pause` runs before every write. */
export async function runFlips(
  remote: RemoteServices,
  watch: MirrorWatch,
  picks: readonly number[],
  into: FlipLatencies,
  pause: () => Promise<void>,
  onPropagated: OnPropagated = () => Promise.resolve(),
): Promise<void> {
  const step = async (kind: 'label' | 'endpoint', m: string, ...args: Parameters<typeof timedStep>) => {
    const r = await timedStep(...args);
    if (r) await onPropagated(kind, m, r.writeAt, r.seenAt);
  };
  for (const i of picks) {
    const m = `${serviceName(i)}-${CLUSTER}`;
    await pause();
    await step(
      'label',
      m,
      into.unexport,
      watch,
      `${m} deleted`,
      () => remote.setExported(i, false),
      () => !watch.services.has(m) && !watch.readyEndpoints.has(m),
    );
    await pause();
    await step(
      'label',
      m,
      into.reexport,
      watch,
      `${m} mirrored again`,
      () => remote.setExported(i, true),
      () => watch.services.has(m) && watch.readyEndpoints.has(m),
    );
  }
  for (const i of picks) {
    const m = `${serviceName(i)}-${CLUSTER}`;
    await pause();
    await step(
      'endpoint',
      m,
      into.endpointUnready,
      watch,
      `${m} Endpoints without addresses`,
      () => remote.setReady(i, false),
      () => !watch.readyEndpoints.has(m),
    );
    await pause();
    await step(
      'endpoint',
      m,
      into.endpointReady,
      watch,
      `${m} Endpoints ready again`,
      () => remote.setReady(i, true),
      () => watch.readyEndpoints.has(m),
    );
  }
}

/** One remote write, timed from just before the request until the local watch shows its effect; undefined on timeout. */
async function timedStep(
  into: Latencies,
  watch: MirrorWatch,
  what: string,
  write: () => Promise<unknown>,
  done: () => boolean,
): Promise<{ writeAt: number; seenAt: number } | undefined> {
  const t0 = performance.now();
  const seen = watch.until(what, done, STEP_TIMEOUT_MS);
  await write();
  try {
    const seenAt = await seen;
    into.samples.push(seenAt - t0);
    return { writeAt: t0, seenAt };
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    // Kept as a lower bound, so a stuck propagation shows in p99 instead of vanishing.
    into.samples.push(STEP_TIMEOUT_MS);
    into.timeouts++;
    return undefined;
  }
}

/**
 * Waits (at most SETTLE_BOUND_MS) for idle: the controller's queue is empty and the local
 * API server and the controller together used under IDLE_CORES of CPU over a window. A
 * label flip makes the controller rewrite the Link status 250 ms later, a write the API
 * server can take a second over; the next change must not land in the middle of it.
 */
export async function settle(mirror: BenchMirror, busyPids: readonly number[]): Promise<void> {
  const deadline = performance.now() + SETTLE_BOUND_MS;
  const used = () => busyPids.reduce((acc, pid) => acc + cpuSeconds(pid), 0);
  await sleep(300); // the status writer batches for 250 ms before it writes
  while (performance.now() < deadline) {
    const before = used();
    await sleep(IDLE_WINDOW_MS);
    const cores = (used() - before) / (IDLE_WINDOW_MS / 1000);
    if (cores < IDLE_CORES && sumOf(await mirror.samples(), 'service_mirror_queue_depth') === 0) return;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
