// One run of the service-mirror benchmark at one N, on a fresh pair of real clusters:
//   1. N exported remote Services (+ one ready EndpointSlice each) in cluster2;
//   2. reference path: the same client creates N mirror-shaped Services + Endpoints in
//      cluster1 and deletes them, twice, in two namespaces; the second round is the one
//      measured (the first is the warm-up; see below);
//   3. our path: controller running, Link created → all N mirrors and ready Endpoints
//      seen by a watch on cluster1;
//   4. at idle: label flips and endpoint readiness flips, remote write → local event;
//   5. the controller's RSS, CPU, metrics and warnings.
// Both clusters' etcd is compacted and defragmented before the warm-up, the reference and our
// path, so each phase starts from the same store state rather than the previous one's history.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { CoordinationV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import { isNotFound } from '../kube/client.ts';
import { linkGatewayPort, parseLink } from '../model/link-parse.ts';
import { LINK_GROUP, LINK_PLURAL, LINK_STORAGE_VERSION } from '../model/link-types.ts';
import type { MirrorSettings } from '../mirror/mirror-objects.ts';
import { Defaults, ObjectNames } from '../model/linkerd-names.ts';
import { waitFor } from '../dev/managed-process.ts';
import { workloadCommand } from '../e2e/workloads/launch.ts';
import { benchPair, MC_NS, type BenchMirror, type BenchPair } from './bench-pair.ts';
import { apiserverRequests, requestDelta, type RequestCounts } from './apiserver-requests.ts';
import { countProblems, countWrites } from './controller-log.ts';
import { LinkWatch, type LinkWrites } from './link-watch.ts';
import { measureStatusWriteCost, type StatusWriteCost } from './link-status-cost.ts';
import { ensureNamespace, ReferenceWrites, RemoteServices } from './mirror-fixture.ts';
import { MirrorWatch, WaitTimeoutError } from './mirror-watch.ts';
import { emptyFlipLatencies, runFlips, settle, sleep, type FlipLatencies, type Latencies } from './mirror-propagation.ts';
import { emptyStages, StageTracer, type StageSamples } from './propagation-stages.ts';
import { compactEtcd, type EtcdCompaction } from '../dev/etcd-maintenance.ts';
import { commandLine, CpuMeter, memoryStats, type MemoryStats } from './proc-stats.ts';
import { sumOf, type Sample } from './prom-text.ts';

export type { Latencies };

export interface MirrorRunConfig {
  n: number;
  workers: number;
  /** In-flight requests for setup and for the reference path. */
  concurrency: number;
  /** Label flips and endpoint flips each (two writes apiece). */
  flips: number;
  convergeTimeoutMs: number;
  workerReference: boolean;
  /** Write the controller's heap snapshot here after the RSS reading. */
  heapSnapshotDir?: string;
  progress: (msg: string) => void;
}

export interface MirrorRunFigures {
  launcher: string;
  setupMs: number;
  rawCreateMs: number;
  /** The same creates as the first writes on the fresh API server (the warm-up round). */
  coldCreateMs: number;
  rawCreateAtWorkersMs?: number;
  /** EndpointSlices of the reference path still present when our path started (0: a quiet start). */
  referenceLeftoverSlices: number;
  converged: boolean;
  convergeMs?: number;
  firstMirrorMs?: number;
  reached: { services: number; readyEndpoints: number };
  unexport: Latencies;
  reexport: Latencies;
  endpointUnready: Latencies;
  endpointReady: Latencies;
  /** The same changes back to back, 20 ms apart. */
  burst: FlipLatencies;
  /** The idle propagations split into stages (propagation-stages.ts). */
  stages: { labelFlip: StageSamples; endpointChange: StageSamples };
  /** etcd compaction before each phase, per cluster. */
  etcd: Array<{ phase: string; cluster1: EtcdCompaction; cluster2: EtcdCompaction }>;
  memory?: MemoryStats;
  /** The controller's RSS while leading with no Link yet: the cost of the process itself. */
  idleRssMb?: number;
  idleHeap: HeapFigures;
  heap: HeapFigures;
  cpu: { rawCreate: Record<string, number>; converge: Record<string, number> };
  /** cluster1 API server requests (`verb resource` → count) during each phase. */
  apiserverRequests: { rawCreate: RequestCounts; converge: RequestCounts };
  controller: ControllerFigures;
  /** The same counters when the last mirror appeared. */
  controllerAtConvergence: Omit<ControllerFigures, 'warnings' | 'writes'>;
  /** Link status rewrites from Link creation to convergence, and to the end of the run. */
  linkWrites: { atConvergence: LinkWrites; atEnd: LinkWrites };
  statusWrite?: StatusWriteCost;
  /** This process's memory across the reference path: what 4N writes cost the client itself. */
  benchClientMemory: { rssBeforeMb: number; rssAfterMb: number; heapBeforeMb: number; heapAfterMb: number };
}

export interface HeapFigures {
  usedMb: number;
  totalMb: number;
  externalMb: number;
}

export interface ControllerFigures {
  reconciles: number;
  reconcilesUnder2_5ms: number;
  reconcileSeconds: number;
  errors: number;
  warnings: Record<string, number>;
  /** The controller's writes by outcome (from its log). */
  writes: Record<string, number>;
}

const NS = 'bench';
const REF_NS = 'bench-ref';
const WARM_NS = 'bench-warm';
const CLUSTER = 'cluster2';
const IDENTITY = 'bench';
const BURST_FLIPS = 20;

type LinkObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: unknown;
};

export async function runMirrorBench(cfg: MirrorRunConfig): Promise<MirrorRunFigures> {
  cfg.progress(`n=${cfg.n}: starting a linked cluster pair`);
  const env = await benchPair(cfg.progress);
  try {
    return await measure(env, cfg);
  } finally {
    cfg.progress(`n=${cfg.n}: stopping the cluster pair`);
    await env.stop();
  }
}

async function measure(env: BenchPair, cfg: MirrorRunConfig): Promise<MirrorRunFigures> {
  const { n, progress } = cfg;
  const kc1 = env.pair.cluster1.kubeConfig;
  const clients1 = { core: env.core1, discovery: kc1.makeApiClient(DiscoveryV1Api) };
  const clients2 = { core: env.core2, discovery: env.pair.cluster2.kubeConfig.makeApiClient(DiscoveryV1Api) };
  for (const [core, ns] of [
    [env.core1, NS],
    [env.core2, NS],
    [env.core1, WARM_NS],
    [env.core1, REF_NS],
  ] as const)
    await ensureNamespace(core, ns);
  const backend = await env.pair.cluster2.pods.start({
    namespace: NS,
    name: 'backend-0',
    labels: { app: 'bench-backend' },
    command: workloadCommand('http-server.ts'),
    env: { PORT: '8080', CLUSTER: CLUSTER },
    ports: [{ name: 'http', containerPort: 8080 }],
    readinessPort: 8080,
  });

  // The Link is taken away now and created again as the start of the measured path.
  const link = await takeLink(env.custom1);
  const parsed = parseLink(link);
  const settings: MirrorSettings = {
    clusterName: CLUSTER,
    clusterDomain: Defaults.clusterDomain,
    gatewayIdentity: parsed.spec.gatewayIdentity ?? '',
    gatewayPort: linkGatewayPort(parsed) ?? Defaults.gatewayPort,
    excludedLabels: [],
    excludedAnnotations: [],
  };

  progress(`n=${n}: creating ${n} remote Services + EndpointSlices in cluster2 (${cfg.concurrency} in flight)`);
  const remote = new RemoteServices(clients2, NS, backend.ip);
  const setupMs = await remote.create(n, cfg.concurrency);
  progress(`n=${n}: remote setup took ${Math.round(setupMs)} ms`);

  const planes = { c1: env.pair.cluster1.controlPlane.processes(), c2: env.pair.cluster2.controlPlane.processes() };
  const pids = new Map<string, number>([['bench', process.pid]]);
  for (const [c, procs] of Object.entries(planes)) for (const p of procs) pids.set(`${c}_${p.spec.name}`, p.pid);

  // Cleanup: bounded by 2 minutes plus 60 ms per Service (the mirroring controller deletes ~20 slices/s).
  const cleanupMs = 120_000 + 60 * n;
  // The controller's phase follows N creates and deletes in another namespace (the reference's);
  // a first round on a fresh API server runs ~20% faster than any later one (3,000: 17.3 s, then
  // 21.2 / 21.7 / 22.3 s). So the measured reference follows such a round too, in a third
  // namespace (reusing the names would let kube-controller-manager's late deletes hit them).
  const etcd: MirrorRunFigures['etcd'] = [];
  const compact = async (phase: string) => {
    const [c1, c2] = await Promise.all([
      compactEtcd(env.pair.cluster1.controlPlane.etcdClientUrl),
      compactEtcd(env.pair.cluster2.controlPlane.etcdClientUrl),
    ]);
    etcd.push({ phase, cluster1: c1, cluster2: c2 });
    progress(`n=${n}: etcd compacted before ${phase} (cluster1 ${c1.dbSizeBeforeMb} → ${c1.dbSizeAfterMb} MB)`);
  };
  await compact('warm-up');
  const warmup = new ReferenceWrites(clients1, WARM_NS, settings, env.gateway.ip);
  const coldCreateMs = await warmup.create(remote.created, cfg.concurrency);
  progress(`n=${n}: warm-up: ${2 * n} objects created in ${Math.round(coldCreateMs)} ms on the fresh API server; cleaning up`);
  const leftovers = [await warmup.delete(remote.created, cfg.concurrency, cleanupMs)];

  await compact('reference');
  const reference = new ReferenceWrites(clients1, REF_NS, settings, env.gateway.ip);
  const before = process.memoryUsage();
  const refMeter = new CpuMeter(pids);
  const requestsBeforeReference = await apiserverRequests(env.pair, env.pair.cluster1);
  const rawCreateMs = await reference.create(remote.created, cfg.concurrency);
  const referenceRequests = requestDelta(requestsBeforeReference, await apiserverRequests(env.pair, env.pair.cluster1));
  const rawCpu = refMeter.read();
  progress(`n=${n}: reference: ${2 * n} objects created in ${Math.round(rawCreateMs)} ms at ${cfg.concurrency} pairs in flight; cleaning up`);
  leftovers.push(await reference.delete(remote.created, cfg.concurrency, cleanupMs));
  let rawCreateAtWorkersMs: number | undefined;
  if (cfg.workerReference) {
    rawCreateAtWorkersMs = await reference.create(remote.created, cfg.workers);
    progress(`n=${n}: reference: ${2 * n} objects created in ${Math.round(rawCreateAtWorkersMs)} ms at ${cfg.workers} pairs in flight; cleaning up`);
    leftovers.push(await reference.delete(remote.created, cfg.concurrency, cleanupMs));
  }
  const referenceLeftoverSlices = Math.max(...leftovers);
  if (referenceLeftoverSlices > 0) progress(`n=${n}: ${referenceLeftoverSlices} reference EndpointSlices still being deleted; measuring anyway`);
  const after = process.memoryUsage();
  const benchClientMemory = {
    rssBeforeMb: mb(before.rss),
    rssAfterMb: mb(after.rss),
    heapBeforeMb: mb(before.heapUsed),
    heapAfterMb: mb(after.heapUsed),
  };

  await compact('our path');
  const watch = new MirrorWatch(kc1, NS, CLUSTER, env.gateway.ip);
  const linkWatch = new LinkWatch(kc1, MC_NS, CLUSTER);
  await Promise.all([watch.start(), linkWatch.start()]);
  try {
    // Everything else at the controller's shipped defaults (1m endpoint repair, info logs, 30s lease).
    const mirror = await env.startMirror(IDENTITY, ['--workers', String(cfg.workers)], cfg.heapSnapshotDir);
    const cmd = commandLine(mirror.proc.pid);
    if (!cmd.includes(mirror.script)) throw new Error(`pid ${mirror.proc.pid} is not the controller itself (${cmd})`);
    pids.set('controller', mirror.proc.pid);
    await waitForLease(env);
    await new Promise((r) => setTimeout(r, 2000));
    const idleRssMb = memoryStats(mirror.proc.pid)?.rssMb;
    const idleHeap = heapOf(await mirror.samples());

    progress(`n=${n}: controller ${mirror.proc.pid} leads; creating the Link`);
    const meter = new CpuMeter(pids);
    linkWatch.reset();
    const requestsBeforeLink = await apiserverRequests(env.pair, env.pair.cluster1);
    const t0 = performance.now();
    await env.custom1.createNamespacedCustomObject({
      group: LINK_GROUP,
      version: LINK_STORAGE_VERSION,
      namespace: MC_NS,
      plural: LINK_PLURAL,
      body: link,
    });
    const ticker = setInterval(() => void tick(mirror, watch, n, t0, progress), 5000);
    let convergeMs: number | undefined;
    try {
      convergeMs =
        (await watch.until(
          `${n} mirrors with ready Endpoints`,
          () => watch.services.size >= n && watch.readyEndpoints.size >= n,
          cfg.convergeTimeoutMs,
        )) - t0;
    } catch (err) {
      if (!(err instanceof WaitTimeoutError)) throw err;
      progress(`n=${n}: ${err.message}`);
    } finally {
      clearInterval(ticker);
    }
    const convergeCpu = meter.read();
    const convergeRequests = requestDelta(requestsBeforeLink, await apiserverRequests(env.pair, env.pair.cluster1));
    const controllerAtConvergence = counters(await mirror.samples());
    const linkWritesAtConvergence = linkWatch.read();
    const reached = { services: watch.services.size, readyEndpoints: watch.readyEndpoints.size };
    const firstMirrorMs = watch.firstServiceAt === undefined ? undefined : watch.firstServiceAt - t0;
    progress(
      `n=${n}: ${convergeMs === undefined ? 'did not converge' : `converged in ${Math.round(convergeMs)} ms`} (${reached.services} Services, ${reached.readyEndpoints} ready Endpoints)`,
    );

    const lat = emptyFlipLatencies();
    const burst = emptyFlipLatencies();
    const stages = { labelFlip: emptyStages(), endpointChange: emptyStages() };
    if (convergeMs !== undefined) {
      await waitIdle(mirror, progress);
      const tracer = new StageTracer(mirror.proc.logPath);
      await tracer.skipToEnd();
      // At idle (the spec's condition): each write waits until the controller's queue is empty
      // and the controller, API server and etcd of cluster1 are quiet.
      progress(`n=${n}: ${cfg.flips} label flips and ${cfg.flips} endpoint flips, each at idle`);
      const busy = [mirror.proc.pid, ...planes.c1.filter((p) => p.spec.name !== 'kube-controller-manager').map((p) => p.pid)];
      await runFlips(
        remote,
        watch,
        spread(n, cfg.flips),
        lat,
        () => settle(mirror, busy),
        (kind, m, writeAt, seenAt) => tracer.record(kind === 'label' ? stages.labelFlip : stages.endpointChange, `${NS}/${m}`, writeAt, seenAt),
      );
      // Back to back: 20 ms apart, so each change meets the status write of the one before.
      const burstPicks = spread(n, BURST_FLIPS).map((i) => (i + 1) % n);
      progress(`n=${n}: ${burstPicks.length} label flips and endpoint flips, back to back`);
      await waitIdle(mirror, progress);
      await runFlips(remote, watch, burstPicks, burst, () => sleep(20));
    }

    const memory = memoryStats(mirror.proc.pid);
    const samples = await mirror.samples();
    if (cfg.heapSnapshotDir) await heapSnapshot(mirror.proc.pid, cfg.heapSnapshotDir, progress);
    progress(`n=${n}: measuring what one Link status write of ${n} entries costs the API server`);
    const apiserver = planes.c1.find((p) => p.spec.name === 'kube-apiserver');
    const statusWrite = apiserver ? await measureStatusWriteCost(kc1, MC_NS, link, n, apiserver.pid) : undefined;
    const controller = { ...counters(samples), warnings: await countProblems(mirror.proc.logPath), writes: await countWrites(mirror.proc.logPath) };
    const heap = heapOf(samples);
    return {
      launcher: mirror.launcher,
      setupMs,
      rawCreateMs,
      coldCreateMs,
      rawCreateAtWorkersMs,
      referenceLeftoverSlices,
      converged: convergeMs !== undefined,
      convergeMs,
      firstMirrorMs,
      reached,
      ...lat,
      burst,
      stages,
      etcd,
      memory,
      idleRssMb,
      idleHeap,
      heap,
      cpu: { rawCreate: rawCpu, converge: convergeCpu },
      apiserverRequests: { rawCreate: referenceRequests, converge: convergeRequests },
      controller,
      controllerAtConvergence,
      linkWrites: { atConvergence: linkWritesAtConvergence, atEnd: linkWatch.read() },
      statusWrite,
      benchClientMemory,
    };
  } finally {
    await Promise.all([watch.stop(), linkWatch.stop()]);
  }
}

/** Signals the controller to write a heap snapshot and waits until the file is complete. */
async function heapSnapshot(pid: number, dir: string, progress: (msg: string) => void): Promise<void> {
  const before = new Set(await readdir(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    await sleep(1000);
    for (const f of await readdir(dir)) {
      if (before.has(f) || !f.endsWith('.heapsnapshot')) continue;
      // The snapshot is streamed; it is complete once its size stops changing.
      const a = (await stat(join(dir, f))).size;
      await sleep(1000);
      if (a > 0 && (await stat(join(dir, f))).size === a) {
        progress(`heap snapshot: ${join(dir, f)}`);
        return;
      }
    }
  }
  progress(`heap snapshot: none appeared in ${dir} within 2 minutes`);
}

function counters(samples: readonly Sample[]): Omit<ControllerFigures, 'warnings' | 'writes'> {
  return {
    reconciles: sumOf(samples, 'service_mirror_reconcile_duration_seconds_count'),
    // Reconciles that found nothing to write finish within a few milliseconds.
    reconcilesUnder2_5ms: sumOf(samples, 'service_mirror_reconcile_duration_seconds_bucket', { le: '0.0025' }),
    reconcileSeconds: round1(sumOf(samples, 'service_mirror_reconcile_duration_seconds_sum')),
    errors: sumOf(samples, 'service_mirror_errors_total'),
  };
}

/** Reads the Link benchPair applied, deletes it (no controller ran, so no finalizer holds it) and returns a creatable copy. */
async function takeLink(custom: CustomObjectsApi): Promise<LinkObject> {
  const ref = { group: LINK_GROUP, version: LINK_STORAGE_VERSION, namespace: MC_NS, plural: LINK_PLURAL, name: CLUSTER };
  const raw = (await custom.getNamespacedCustomObject(ref)) as LinkObject;
  await custom.deleteNamespacedCustomObject(ref);
  await waitFor(
    'the Link to be deleted',
    async () => {
      try {
        await custom.getNamespacedCustomObject(ref);
        return undefined;
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  const { name, namespace, labels, annotations } = raw.metadata;
  return { apiVersion: raw.apiVersion, kind: raw.kind, metadata: { name, namespace, labels, annotations }, spec: raw.spec };
}

async function waitForLease(env: BenchPair): Promise<void> {
  const coordination = env.pair.cluster1.kubeConfig.makeApiClient(CoordinationV1Api);
  await waitFor(
    'the controller to hold the Lease',
    async () => {
      const lease = await coordination.readNamespacedLease({ name: ObjectNames.lease(CLUSTER), namespace: MC_NS });
      return lease.spec?.holderIdentity === IDENTITY ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

/** Waits until the controller's queue has been empty for two scrapes a second apart. */
async function waitIdle(mirror: BenchMirror, progress: (msg: string) => void): Promise<void> {
  let quiet = 0;
  const deadline = Date.now() + 120_000;
  while (quiet < 2 && Date.now() < deadline) {
    const depth = sumOf(await mirror.samples(), 'service_mirror_queue_depth');
    quiet = depth === 0 ? quiet + 1 : 0;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (quiet < 2) progress('controller queue still not empty after 120 s; measuring anyway');
}

async function tick(mirror: BenchMirror, watch: MirrorWatch, n: number, t0: number, progress: (msg: string) => void): Promise<void> {
  const samples = await mirror.samples();
  const rss = memoryStats(mirror.proc.pid)?.rssMb ?? NaN;
  progress(
    `  t=${((performance.now() - t0) / 1000).toFixed(0)}s services ${watch.services.size}/${n} ready ${watch.readyEndpoints.size}/${n} ` +
      `queue ${sumOf(samples, 'service_mirror_queue_depth')} reconciles ${sumOf(samples, 'service_mirror_reconcile_duration_seconds_count')} rss ${rss} MB`,
  );
}

/** `count` indices spread evenly over 0..n-1. */
export function spread(n: number, count: number): number[] {
  const k = Math.min(n, count);
  return Array.from({ length: k }, (_, j) => Math.floor((j * n) / k));
}

function heapOf(samples: readonly Sample[]): HeapFigures {
  const of = (name: string) => mb(sumOf(samples, name));
  return { usedMb: of('nodejs_heap_size_used_bytes'), totalMb: of('nodejs_heap_size_total_bytes'), externalMb: of('nodejs_external_memory_bytes') };
}

function mb(bytes: number): number {
  return round1(bytes / 2 ** 20);
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
