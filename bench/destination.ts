// `npm run bench -- destination`: Get streams on one remote-discovery Service (issue spec:
// 1,000 concurrent streams, 5,000 remote endpoints). Measures time to first update, the
// fan-out of one endpoint change to every stream, and RSS; and in the same run the reference
// path: a raw watch of the same slices with the kube client, from the write to that watch.
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DiscoveryV1Api, PatchStrategy, setHeaderOptions, type V1EndpointSlice } from '@kubernetes/client-node';
import { Reflector } from '../kube/reflector.ts';
import { DESTINATION_GET_PATH, destinationServiceDefinition, type UpdateOut } from '../proto/load.ts';
import { updateView } from '../destination/test-client.ts';
import { cliBundle, BIN } from '../e2e/fixtures/cli.ts';
import { startDestination, type DestinationProcess } from '../e2e/fixtures/destination-process.ts';
import { benchPair } from './bench-pair.ts';
import { BenchUsageError, type Benchmark, type BenchResult } from './benchmark.ts';
import { BENCH_NS, createBenchObjects, endpointIp, MIRROR, sliceName, TARGET_PORT } from './destination-fixture.ts';
import {
  EngineGrpcConnection,
  GrpcH2Connection,
  PROXY_WINDOWS,
  type GrpcStreamingConnection,
  type ServerStreamCall,
} from './destination-h2-client.ts';
import { CpuMeter, memoryStats } from './proc-stats.ts';
import { roundMs, summarize } from './quantiles.ts';

/** A one-endpoint diff is far smaller than this; a snapshot far larger. */
const DIFF_BYTES_MAX = 4096;

export const DESTINATION_TARGETS = Object.freeze({ firstUpdateP99Ms: 50, fanoutP99Ms: 100 });

interface Config {
  streams: number;
  endpoints: number;
  sliceSize: number;
  changes: number;
  batch: number;
  connections: number;
  clientStreamWindow: number;
  clientConnWindow: number;
  client: 'engine' | 'node';
  warmup: number;
}

const USAGE = `usage: npm run bench -- destination [--streams 1000] [--endpoints 5000] [--slice-size 100] [--changes 40] [--batch 100] [--connections 20]
                                       [--client-stream-window 65535] [--client-conn-window 1048576] [--client engine|node] [--warmup 100]
  --streams      concurrent Get streams on the one Service (default 1000)
  --endpoints    remote endpoints, written as EndpointSlices of --slice-size (default 5000 in slices of 100)
  --changes      single-endpoint changes (alternately not ready / ready again) measured for fan-out (default 40)
  --batch        streams opened at once while measuring time to first update (default 100; --batch 1000 opens all at once)
  --connections  HTTP/2 connections the streams are spread over, as many proxies would (default 20)
  --client-stream-window, --client-conn-window
                 the clients' HTTP/2 receive windows in bytes (default a linkerd2-proxy's: 65535 a stream,
                 1048576 a connection; --client-conn-window 65535 is what grpc-js clients advertise)
  --client       engine (h2/'s frame engine, default) or node (node:http2): the client's own CPU is on the measured machine
  --warmup       streams opened together and cancelled before the measured ones (default 100; 0 measures from cold)`;

function parseConfig(argv: readonly string[]): Config {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        streams: { type: 'string', default: '1000' },
        endpoints: { type: 'string', default: '5000' },
        'slice-size': { type: 'string', default: '100' },
        changes: { type: 'string', default: '40' },
        batch: { type: 'string', default: '100' },
        connections: { type: 'string', default: '20' },
        'client-stream-window': { type: 'string', default: String(PROXY_WINDOWS.streamBytes) },
        'client-conn-window': { type: 'string', default: String(PROXY_WINDOWS.connectionBytes) },
        client: { type: 'string', default: 'engine' },
        warmup: { type: 'string', default: '100' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new BenchUsageError(err instanceof Error ? err.message : String(err));
  }
  const int = (flag: string, text: string, min: number, max: number): number => {
    const v = Number(text);
    if (!/^\d+$/.test(text) || v < min || v > max) throw new BenchUsageError(`invalid --${flag} "${text}": use a whole number from ${min} to ${max}`);
    return v;
  };
  return {
    streams: int('streams', values.streams, 1, 100_000),
    endpoints: int('endpoints', values.endpoints, 1, 60_000),
    sliceSize: int('slice-size', values['slice-size'], 1, 1000),
    changes: int('changes', values.changes, 2, 10_000),
    batch: int('batch', values.batch, 1, 100_000),
    connections: int('connections', values.connections, 1, 1000),
    // HTTP/2 windows: at least the protocol's initial 65,535, at most 2^31-1.
    clientStreamWindow: int('client-stream-window', values['client-stream-window'], 65_535, 2 ** 31 - 1),
    clientConnWindow: int('client-conn-window', values['client-conn-window'], 65_535, 2 ** 31 - 1),
    client: clientKind(values.client),
    warmup: int('warmup', values.warmup, 0, 100_000),
  };
}

function clientKind(v: string): 'engine' | 'node' {
  if (v === 'engine' || v === 'node') return v;
  throw new BenchUsageError(`invalid --client "${v}": use engine (h2/, the default) or node (node:http2)`);
}

/** The largest time of each batch of streams after the first (cold) one. */
function batchMaxima(times: readonly number[], batch: number): number[] {
  const out: number[] = [];
  for (let from = 1; from < times.length; from += batch) out.push(Math.max(...times.slice(from, from + batch)));
  return out;
}

interface Expectation {
  t0: number;
  match: (u: ReturnType<typeof updateView>) => boolean;
  at: Array<number | undefined>;
  seen: number;
  bytes?: Buffer;
  done?: () => void;
}

export const destinationBenchmark: Benchmark = {
  name: 'destination',
  summary: 'destination service: N Get streams on a remote Service of M endpoints; first update, fan-out p99, RSS',
  usage: USAGE,
  async run(argv, progress): Promise<BenchResult> {
    const cfg = parseConfig(argv);
    const machine = { cpus: cpus().length, node: process.version, loadavg_1m_at_start: Math.round((loadavg()[0] ?? 0) * 100) / 100 };
    const env = await benchPair(progress);
    const connections: GrpcStreamingConnection[] = [];
    const calls: ServerStreamCall[] = [];
    /** Set once the run is over: the streams' ends are then ours. */
    let closing = false;
    let slicesWatch: Reflector<V1EndpointSlice> | undefined;
    let dest: DestinationProcess | undefined;
    try {
      const podOctet = env.pair.cluster2.addressing.podOctet;
      const discovery2 = env.pair.cluster2.kubeConfig.makeApiClient(DiscoveryV1Api);
      progress(`writing ${cfg.endpoints} endpoints as EndpointSlices of ${cfg.sliceSize} in cluster2`);
      const slices = await createBenchObjects({
        core1: env.core1,
        core2: env.core2,
        discovery2,
        podOctet,
        endpoints: cfg.endpoints,
        sliceSize: cfg.sliceSize,
      });
      const t = performance.now();
      await discovery2.listNamespacedEndpointSlice({ namespace: BENCH_NS });
      const rawListMs = performance.now() - t;

      // From the CLI bundle, with Node's own heap settings unless BENCH_DESTINATION_NODE_OPTIONS says otherwise
      // (the mirror's small semi-spaces cost the snapshot-heavy open phase 2x here).
      const nodeOptions = process.env['BENCH_DESTINATION_NODE_OPTIONS'];
      dest = await startDestination(env.pair, ['--log-level', 'warn'], {
        script: (await cliBundle()) ?? BIN,
        env: nodeOptions === undefined ? process.env : { ...process.env, NODE_OPTIONS: nodeOptions },
        // e.g. `--cpu-prof --cpu-prof-dir=DIR` (not allowed in NODE_OPTIONS) to profile the destination service.
        nodeArgs: (process.env['BENCH_DESTINATION_NODE_ARGS'] ?? '').split(' ').filter(Boolean),
      });
      // The benchmark's own client (1,000 streams) runs on the same cores: its CPU is reported apart from everyone else's.
      const pids = new Map([
        ['destination', dest.proc.pid],
        ['bench_client', process.pid],
      ]);
      const idleRss = memoryStats(dest.proc.pid);
      const getDef = destinationServiceDefinition().Get;
      const decode = getDef.responseDeserialize;
      const request = getDef.requestSerialize({ path: `${MIRROR}.${BENCH_NS}.svc.cluster.local:80` });
      const firstUpdate: number[] = [];
      const firstBytes: number[] = [];
      let expectation: Expectation | undefined;
      /** Warm-up streams: measured apart, then cancelled (their ends are expected). */
      const warmupTimes: number[] = [];
      const warmupCalls: ServerStreamCall[] = [];
      let warmupOver = false;
      const open = (i: number, warmup = false): Promise<void> =>
        new Promise((resolve, reject) => {
          const conn = connections[i % connections.length] as GrpcStreamingConnection;
          let first = true;
          const started = performance.now();
          const call = conn.serverStream(DESTINATION_GET_PATH, request, {
            // Only the small diffs are compared; a snapshot counts by its length.
            keepBytesUpTo: DIFF_BYTES_MAX,
            // Called when the message's last byte has arrived.
            message: (m) => {
              const at = performance.now();
              if (first) {
                first = false;
                if (warmup) warmupTimes[i] = at - started;
                else {
                  firstUpdate[i] = at - started;
                  firstBytes[i] = m.length;
                }
                resolve();
                return;
              }
              if (warmup) return;
              const e = expectation;
              const b = m.bytes;
              if (!e || e.at[i] !== undefined || b === undefined) return;
              // Every stream gets the same bytes: decode once, then compare (the bench client's own CPU
              // would otherwise be part of the fan-out it measures).
              if (e.bytes ? b.equals(e.bytes) : e.match(updateView(decode(b) as UpdateOut))) {
                e.bytes ??= b;
                e.at[i] = at;
                if (++e.seen === cfg.streams) e.done?.();
              }
            },
            end: (how) => {
              if (closing || (warmup && warmupOver)) return;
              const why = how.kind === 'status' ? `gRPC status ${how.code}: ${how.details}` : how.reason;
              const err = new Error(`Get stream ${i} ended: ${why}`);
              if (first) reject(err);
              else progress(err.message);
            },
          });
          (warmup ? warmupCalls : calls).push(call);
        });

      // Connections are set up before any stream is timed: proxies hold theirs open.
      for (let i = 0; i < cfg.connections; i++) {
        connections.push(
          await (cfg.client === 'engine' ? EngineGrpcConnection : GrpcH2Connection).connect(dest.address, {
            streamBytes: cfg.clientStreamWindow,
            connectionBytes: cfg.clientConnWindow,
          }),
        );
      }
      const clientWindows = connections[0]?.windows;
      progress('stream 1 (cold: the remote watches start)');
      await open(0);
      const coldMs = firstUpdate[0] as number;
      // A destination serves proxies for days: new streams meet a warm process. One batch opened and
      // cancelled first takes the JIT and the connections' windows past their cold start; its own
      // times are reported apart (first_update_warmup_ms), as the mirror benchmark's warm-up round is.
      if (cfg.warmup > 0) {
        progress(`warm-up: ${cfg.warmup} streams, opened together and then cancelled`);
        await Promise.all(Array.from({ length: cfg.warmup }, (_, k) => open(k, true)));
        warmupOver = true;
        for (const c of warmupCalls) c.cancel();
        await new Promise((r) => setTimeout(r, 500));
      }
      const meter = new CpuMeter(pids);
      progress(`opening ${cfg.streams - 1} more streams, ${cfg.batch} at a time`);
      for (let from = 1; from < cfg.streams; from += cfg.batch) {
        await Promise.all(Array.from({ length: Math.min(cfg.batch, cfg.streams - from) }, (_, k) => open(from + k)));
      }
      const openCpu = meter.read();
      await new Promise((r) => setTimeout(r, 2000));
      const rssStreamsOpen = memoryStats(dest.proc.pid);

      // The reference path: the same slices watched with the kube client, in this process.
      let reference: { name: string; ready: boolean; resolve: (at: number) => void } | undefined;
      slicesWatch = new Reflector<V1EndpointSlice>({
        kubeConfig: env.pair.cluster2.kubeConfig,
        path: `/apis/discovery.k8s.io/v1/namespaces/${BENCH_NS}/endpointslices`,
        list: (q) => discovery2.listNamespacedEndpointSlice({ namespace: BENCH_NS, ...q }),
        onEvent: (e) => {
          const r = reference;
          if (e.type === 'updated' && r && e.object.metadata?.name === r.name && e.object.endpoints?.[0]?.conditions?.ready === r.ready) {
            reference = undefined;
            r.resolve(performance.now());
          }
        },
      });
      slicesWatch.start();
      await slicesWatch.listed();

      const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
      const fanout: number[] = [];
      const allStreams: number[] = [];
      const referenceMs: number[] = [];
      let timeouts = 0;
      const changeCpu = new CpuMeter(pids);
      progress(`${cfg.changes} single-endpoint changes, each awaited on all ${cfg.streams} streams and on the reference watch`);
      for (let k = 0; k < cfg.changes; k++) {
        const j = Math.floor(k / 2) % slices;
        const ready = k % 2 === 1;
        const addr = `${endpointIp(podOctet, j * cfg.sliceSize)}:${TARGET_PORT}`;
        const e: Expectation = {
          t0: 0,
          at: new Array<number | undefined>(cfg.streams).fill(undefined),
          seen: 0,
          match: (u) => ('remove' in u ? !ready && u.remove.includes(addr) : 'add' in u && ready && u.add.some((a) => a.addr === addr)),
        };
        const allSeen = new Promise<boolean>((resolve) => {
          e.done = () => resolve(true);
          setTimeout(() => resolve(false), 10_000);
        });
        const refSeen = new Promise<number | undefined>((resolve) => {
          reference = { name: sliceName(j), ready, resolve };
          setTimeout(() => resolve(undefined), 10_000);
        });
        expectation = e;
        e.t0 = performance.now();
        await discovery2.patchNamespacedEndpointSlice(
          { name: sliceName(j), namespace: BENCH_NS, body: [{ op: 'replace', path: '/endpoints/0/conditions/ready', value: ready }] },
          jsonPatch,
        );
        const [ok, refAt] = await Promise.all([allSeen, refSeen]);
        if (!ok) timeouts++;
        if (refAt !== undefined) referenceMs.push(refAt - e.t0);
        const got = e.at.filter((x): x is number => x !== undefined).map((x) => x - e.t0);
        fanout.push(...got);
        if (ok) allStreams.push(Math.max(...got));
        expectation = undefined;
        await new Promise((r) => setTimeout(r, 100));
      }
      const rssEnd = memoryStats(dest.proc.pid);
      const first = summarize(firstUpdate.slice(1));
      const warmup = summarize(warmupTimes.filter((x) => x !== undefined));
      const fan = summarize(fanout);
      const all = summarize(allStreams);
      const ref = summarize(referenceMs);
      const ms = (x: number | undefined) => (x === undefined ? null : roundMs(x));
      const ratio = (a: number | undefined, b: number | undefined) =>
        a === undefined || b === undefined || b === 0 ? null : Math.round((a / b) * 100) / 100;
      const metrics = await dest.metrics();
      return {
        bench: 'destination',
        targets: DESTINATION_TARGETS,
        machine,
        config: cfg,
        destination_node_options: nodeOptions ?? null,
        // What the client connections advertised (read back from the HTTP/2 sessions).
        client: cfg.client,
        first_update_warmup_ms: warmup ? { p50: ms(warmup.p50), p99: ms(warmup.p99), max: ms(warmup.max) } : null,
        client_windows: clientWindows ? { stream_bytes: clientWindows.streamBytes, connection_bytes: clientWindows.connectionBytes } : null,
        endpoints_have_pods: false,
        first_update_ms: { cold_first_stream: ms(coldMs), p50: ms(first?.p50), p99: ms(first?.p99), max: ms(first?.max) },
        // The slowest stream of each batch: whether the tail is one batch (warm-up, a collection) or all of them.
        first_update_batch_max_ms: batchMaxima(firstUpdate, cfg.batch).map(ms),
        first_update_bytes: firstBytes[1] ?? null,
        fanout_per_stream_ms: { count: fan?.count ?? 0, p50: ms(fan?.p50), p99: ms(fan?.p99), max: ms(fan?.max) },
        fanout_all_streams_ms: { count: all?.count ?? 0, p50: ms(all?.p50), p99: ms(all?.p99), max: ms(all?.max) },
        fanout_timeouts: timeouts,
        reference_watch_ms: { count: ref?.count ?? 0, p50: ms(ref?.p50), p99: ms(ref?.p99), max: ms(ref?.max) },
        reference_raw_list_ms: ms(rawListMs),
        ratio_fanout_p99_vs_reference_p99: ratio(fan?.p99, ref?.p99),
        ratio_all_streams_p99_vs_reference_p99: ratio(all?.p99, ref?.p99),
        ratio_first_update_p99_vs_raw_list: ratio(first?.p99, rawListMs),
        rss_mb: {
          idle: idleRss?.rssMb ?? null,
          streams_open: rssStreamsOpen?.rssMb ?? null,
          end: rssEnd?.rssMb ?? null,
          peak: rssEnd?.peakRssMb ?? null,
        },
        cpu_s: { opening_streams: openCpu, changes: changeCpu.read() },
        updates_sent: metrics.split('\n').filter((l) => l.startsWith('destination_updates_sent_total{')),
        targets_met: {
          first_update_p99_le_50ms: first !== undefined && first.p99 <= DESTINATION_TARGETS.firstUpdateP99Ms,
          fanout_p99_le_100ms: fan !== undefined && fan.p99 <= DESTINATION_TARGETS.fanoutP99Ms && timeouts === 0,
        },
      };
    } finally {
      closing = true;
      for (const c of calls) c.cancel();
      for (const c of connections) c.close();
      await slicesWatch?.stop();
      // SIGTERM, so that a --cpu-prof profile is written.
      await dest?.stop();
      await env.stop();
    }
  },
};
