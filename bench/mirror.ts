// `npm run bench -- mirror`: the service-mirror benchmark (issue spec: N = 1,000 and
// 10,000 exported Services with one ready endpoint each; convergence against the raw
// create time of the same objects by the same client, propagation p50/p99 for label and
// endpoint changes, RSS at the end). Each N gets its own fresh pair of real clusters.
import { cpus, loadavg } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { run } from '../dev/exec.ts';
import { BenchUsageError, type Benchmark, type BenchResult } from './benchmark.ts';
import { runMirrorBench, type Latencies, type MirrorRunFigures } from './mirror-run.ts';
import { roundMs, summarize, type Summary } from './quantiles.ts';
import { stageSummary } from './propagation-stages.ts';

export interface MirrorBenchConfig {
  ns: readonly number[];
  workers: number;
  concurrency: number;
  flips: number;
  /** Per-N convergence bound; undefined scales with N. */
  timeoutS?: number;
  /** Also time the reference path at the controller's worker count (doubles the reference time). */
  workerReference: boolean;
  heapSnapshotDir?: string;
}

/** The targets. */
export const TARGETS = Object.freeze({ convergeRatio: 1.5, p99Ms: 100, rssMb: 150 });

const USAGE = `usage: npm run bench -- mirror [--n 1000,10000] [--quick] [--workers 16] [--concurrency 32] [--flips 50] [--timeout-s S] [--worker-reference] [--heap-snapshot DIR]
  --n            comma-separated Service counts, each run on a fresh cluster pair (default 1000,10000)
  --quick        a smoke run: --n 200
  --workers      the controller's --workers (default 16, its own default)
  --concurrency  Services (with their slices, or their mirror pair) created at once in setup and in the reference path (default 32)
  --flips        label flips and endpoint flips at idle, each (default 50)
  --timeout-s    bound on convergence per N (default 120 s + 60 ms per Service)
  --worker-reference     also time the reference path at --workers pairs in flight (one more round of
                         creates and deletes before the controller runs)
  --heap-snapshot DIR    write the controller's heap snapshot into DIR at the end (for finding where memory goes)`;

export function parseMirrorArgs(argv: readonly string[]): MirrorBenchConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        n: { type: 'string' },
        quick: { type: 'boolean', default: false },
        workers: { type: 'string', default: '16' },
        concurrency: { type: 'string', default: '32' },
        flips: { type: 'string', default: '50' },
        'timeout-s': { type: 'string' },
        'worker-reference': { type: 'boolean', default: false },
        'heap-snapshot': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new BenchUsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.quick && values.n !== undefined) throw new BenchUsageError('--quick and --n are exclusive');
  const ns = values.quick ? [200] : (values.n ?? '1000,10000').split(',').map((s) => int('n', s.trim(), 1, 100_000));
  const timeoutS = values['timeout-s'] === undefined ? undefined : int('timeout-s', values['timeout-s'], 1, 86_400);
  return Object.freeze({
    ns: Object.freeze(ns),
    workers: int('workers', values.workers, 1, 64),
    concurrency: int('concurrency', values.concurrency, 1, 256),
    flips: int('flips', values.flips, 1, 10_000),
    timeoutS,
    workerReference: values['worker-reference'],
    heapSnapshotDir: values['heap-snapshot'] === undefined ? undefined : resolve(values['heap-snapshot']),
  });
}

function int(flag: string, text: string, min: number, max: number): number {
  const v = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(v) || v < min || v > max) {
    throw new BenchUsageError(`invalid --${flag} "${text}": use a whole number from ${min} to ${max}`);
  }
  return v;
}

export const mirrorBenchmark: Benchmark = {
  name: 'mirror',
  summary: 'service mirror: Link → N mirrors vs raw creates, propagation p50/p99, RSS',
  usage: USAGE,
  async run(argv, progress): Promise<BenchResult> {
    const cfg = parseMirrorArgs(argv);
    const results: Array<Record<string, unknown>> = [];
    // Other work on the machine skews every figure; the load at the start says how much.
    const machine = { cpus: cpus().length, node: process.version, loadavg_1m_at_start: round2(loadavg()[0] ?? 0) };
    // Others work in the same checkout: record which controller sources were measured.
    const source = await sourceState();
    if (cfg.heapSnapshotDir) await mkdir(cfg.heapSnapshotDir, { recursive: true });
    for (const n of cfg.ns) {
      const convergeTimeoutMs = (cfg.timeoutS ?? 120 + n * 0.06) * 1000;
      try {
        const figures = await runMirrorBench({
          n,
          workers: cfg.workers,
          concurrency: cfg.concurrency,
          flips: cfg.flips,
          convergeTimeoutMs,
          workerReference: cfg.workerReference,
          heapSnapshotDir: cfg.heapSnapshotDir,
          progress,
        });
        const row = mirrorRow(n, cfg, figures);
        progress(`n=${n}: ${JSON.stringify(row)}`);
        results.push(row);
      } catch (err) {
        progress(`n=${n}: run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        results.push({ n, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return { bench: 'mirror', targets: TARGETS, machine, source, results };
  },
};

/** One result row: the headline figures first, then what explains them. */
export function mirrorRow(n: number, cfg: Pick<MirrorBenchConfig, 'workers' | 'concurrency'>, f: MirrorRunFigures): Record<string, unknown> {
  const labelFlip = summarize([...f.unexport.samples, ...f.reexport.samples]);
  const endpointChange = summarize([...f.endpointUnready.samples, ...f.endpointReady.samples]);
  const ratio = f.convergeMs === undefined ? undefined : f.convergeMs / f.rawCreateMs;
  const ms = (x: number | undefined) => (x === undefined ? null : roundMs(x));
  const timeouts = f.unexport.timeouts + f.reexport.timeouts + f.endpointUnready.timeouts + f.endpointReady.timeouts;
  return {
    n,
    workers: cfg.workers,
    concurrency: cfg.concurrency,
    raw_create_ms: ms(f.rawCreateMs),
    converge_ms: ms(f.convergeMs),
    ratio: ratio === undefined ? null : round2(ratio),
    label_flip_p50_ms: ms(labelFlip?.p50),
    label_flip_p99_ms: ms(labelFlip?.p99),
    endpoint_change_p50_ms: ms(endpointChange?.p50),
    endpoint_change_p99_ms: ms(endpointChange?.p99),
    rss_mb: f.memory?.rssMb ?? null,
    targets_met: {
      converge_within_1_5x_raw: ratio !== undefined && ratio <= TARGETS.convergeRatio,
      label_flip_p99_le_100ms: labelFlip !== undefined && labelFlip.p99 <= TARGETS.p99Ms,
      endpoint_change_p99_le_100ms: endpointChange !== undefined && endpointChange.p99 <= TARGETS.p99Ms,
      rss_le_150mb: f.memory !== undefined && f.memory.rssMb <= TARGETS.rssMb,
    },
    converged: f.converged,
    reached: f.reached,
    first_mirror_ms: ms(f.firstMirrorMs),
    raw_create_cold_ms: ms(f.coldCreateMs),
    ratio_vs_cold: f.convergeMs === undefined ? null : round2(f.convergeMs / f.coldCreateMs),
    raw_create_at_workers_ms: ms(f.rawCreateAtWorkersMs),
    ratio_vs_same_concurrency:
      f.convergeMs === undefined || f.rawCreateAtWorkersMs === undefined ? null : round2(f.convergeMs / f.rawCreateAtWorkersMs),
    remote_setup_ms: ms(f.setupMs),
    reference_leftover_slices: f.referenceLeftoverSlices,
    rss_peak_mb: f.memory?.peakRssMb ?? null,
    controller_launcher: f.launcher,
    rss_idle_no_link_mb: f.idleRssMb ?? null,
    heap_mb: { idle_no_link: f.idleHeap, end: f.heap },
    propagation_ms: {
      unexport: brief(f.unexport),
      reexport: brief(f.reexport),
      endpoint_unready: brief(f.endpointUnready),
      endpoint_ready: brief(f.endpointReady),
      timeouts,
    },
    // Each idle propagation split: remote write → event at the controller → reconcile start → local write done → seen.
    propagation_stages_ms: { label_flip: stageSummary(f.stages.labelFlip), endpoint_change: stageSummary(f.stages.endpointChange) },
    etcd_compactions: f.etcd,
    propagation_back_to_back_ms: {
      label_flip: brief({ samples: [...f.burst.unexport.samples, ...f.burst.reexport.samples], timeouts: 0 }),
      endpoint_change: brief({ samples: [...f.burst.endpointUnready.samples, ...f.burst.endpointReady.samples], timeouts: 0 }),
      timeouts: f.burst.unexport.timeouts + f.burst.reexport.timeouts + f.burst.endpointUnready.timeouts + f.burst.endpointReady.timeouts,
    },
    cpu_s: f.cpu,
    apiserver_requests: f.apiserverRequests,
    controller: f.controller,
    controller_at_convergence: f.controllerAtConvergence,
    link_status_writes: f.linkWrites,
    link_status_write_cost: f.statusWrite ?? null,
    bench_client_memory: f.benchClientMemory,
  };
}

function brief(l: Latencies): Omit<Summary, 'mean'> | null {
  const s = summarize(l.samples);
  if (!s) return null;
  return { count: s.count, min: roundMs(s.min), p50: roundMs(s.p50), p90: roundMs(s.p90), p99: roundMs(s.p99), max: roundMs(s.max) };
}

async function sourceState(): Promise<{ commit: string; uncommitted: string[] }> {
  const git = (args: string[]) => run('git', args, { allowFailure: true });
  const commit = (await git(['rev-parse', '--short', 'HEAD'])).trim();
  const uncommitted = (await git(['status', '--porcelain', '--', 'mirror', 'kube', 'link', 'bin', 'cli']))
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(3));
  return { commit, uncommitted };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
