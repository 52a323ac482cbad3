// `npm run bench -- gateway`: the gateway's data path against the direct path in one run, on
// loopback. For the maximum-RPS phase the process under test (target or gateway) is pinned to
// one core (taskset) and the rest to the other. Added latency p50/p99 for small HTTP/2 requests at a fixed rate, maximum
// requests per second, and opaque TCP bulk throughput; and, as a floor for any relay in Node, the
// added latency and bulk throughput of a plain TCP pipe in a process of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS } from '../bin/bundle-options.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import * as http2 from 'node:http2';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dialMeshed } from '../gateway/outbound-connect.ts';
import type { Credentials } from '../gateway/identity-source.ts';
import { createIdentityIssuer } from '../identity/issuer.ts';
import { issueLeaf } from '../identity/leaf.ts';
import { loadSigningCa } from '../identity/signing-ca.ts';
import { createTrustAnchor } from '../identity/trust-anchor.ts';
import { BenchUsageError, type Benchmark, type BenchResult } from './benchmark.ts';
import { bulk, engineSession, fixedRate, maxRate, nodeSession, type LoadSession } from './gateway-load.ts';
import { cpuSeconds, CpuMeter } from './proc-stats.ts';
import { summarize } from './quantiles.ts';

export const GATEWAY_TARGETS = Object.freeze({ addedP50Ms: 0.3, addedP99Ms: 1.5, rpsRatio: 0.5, bulkRatio: 0.8 });
const GW_ID = 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local';
const CLIENT_ID = 'bench.default.serviceaccount.identity.linkerd.cluster.local';
const H2_NAME = 'h2.bench.svc.cluster.local';
const SINK_NAME = 'sink.bench.svc.cluster.local';

const USAGE = `usage: npm run bench -- gateway [--rps 2000] [--seconds 10] [--concurrency 128] [--bulk-mb 512] [--client engine|node]`;

/**
 * The fixture bundled as the CLI is (bin/multicluster.js), so that the gateway runs the code a
 * user runs: under the TypeScript loader every named function would also pay for keepNames.
 */
async function bundleFixture(dir: string): Promise<string> {
  const out = join(dir, 'gateway-fixture.mjs');
  await build({ entryPoints: [join(import.meta.dirname, 'gateway-fixture.ts')], outfile: out, logLevel: 'error', ...BUNDLE_OPTIONS });
  return out;
}

function spawnFixture(script: string, args: string[]): Promise<{ child: ChildProcess; ports: number[] }> {
  const extra = (process.env['BENCH_GATEWAY_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...(args[0] === 'gateway' ? extra : []), script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^ready ([\d ]+)\n/.exec(out);
      if (m) resolve({ child, ports: (m[1] ?? '').split(' ').map(Number) });
    });
    child.once('exit', (code) => reject(new Error(`fixture ${args[0]} exited with ${code}`)));
  });
}

/** Milliseconds to the microsecond. */
function roundUs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** One bulk transfer, and the CPU each process spent per MB: on two shared cores the rate is bounded by their sum. */
async function measuredBulk(
  socket: Duplex,
  bytes: number,
  pids: Record<string, number>,
): Promise<{ mbps: number; cpuMsPerMb: Record<string, number> }> {
  const meter = new CpuMeter(new Map(Object.entries(pids)));
  const mbps = await bulk(socket, bytes);
  const mb = bytes / 1e6;
  const cpuMsPerMb = Object.fromEntries([...meter.used()].map(([name, s]) => [name, Math.round((s * 1e5) / mb) / 100]));
  return { mbps, cpuMsPerMb };
}

function dialPlain(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true }, () => resolve(c));
  });
}

/** CPU affinity of a running process (taskset), so that a phase can give one process one core. */
function pin(pid: number, cores: string): Promise<void> {
  return new Promise((resolve) => spawn('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' }).once('exit', () => resolve()));
}

async function pki(dir: string): Promise<Credentials> {
  const anchor = await createTrustAnchor();
  const issuerBundle = await createIdentityIssuer(anchor);
  const ca = await loadSigningCa(issuerBundle.certPem, issuerBundle.keyPem, 'identity issuer');
  const gw = await issueLeaf(ca, { identity: GW_ID });
  const client = await issueLeaf(ca, { identity: CLIENT_ID });
  await writeFile(join(dir, 'ca.crt'), anchor.certPem);
  await writeFile(join(dir, 'gw.crt'), gw.chainPem);
  await writeFile(join(dir, 'gw.key'), gw.keyPem);
  return {
    identity: CLIENT_ID,
    certChainPem: client.chainPem,
    keyPem: client.keyPem,
    trustAnchorsPem: anchor.certPem,
    notAfter: client.cert.notAfter,
  };
}

export const gatewayBenchmark: Benchmark = {
  name: 'gateway',
  summary: 'gateway data path vs direct: added latency at fixed RPS, max RPS on one core, TCP bulk throughput',
  usage: USAGE,
  async run(argv, progress): Promise<BenchResult> {
    let values;
    try {
      ({ values } = parseArgs({
        args: [...argv],
        options: {
          rps: { type: 'string', default: '2000' },
          seconds: { type: 'string', default: '10' },
          concurrency: { type: 'string', default: '128' },
          'bulk-mb': { type: 'string', default: '512' },
          client: { type: 'string', default: 'engine' },
        },
        strict: true,
      }));
    } catch (err) {
      throw new BenchUsageError(err instanceof Error ? err.message : String(err));
    }
    const rps = Number(values.rps);
    const seconds = Number(values.seconds);
    const concurrency = Number(values.concurrency);
    const bulkBytes = Number(values['bulk-mb']) * 1024 * 1024;
    const clientKind = values.client;
    if (clientKind !== 'node' && clientKind !== 'engine') throw new BenchUsageError(`--client must be node or engine, not "${clientKind}"`);
    const dir = await mkdtemp(join(tmpdir(), 'gw-bench-'));
    const client = await pki(dir);
    const script = await bundleFixture(dir);
    const target = await spawnFixture(script, ['target']);
    const [h2Port, sinkPort] = target.ports as [number, number];
    const gateway = await spawnFixture(script, ['gateway', dir, String(h2Port), String(sinkPort)]);
    const gwPort = gateway.ports[0] as number;
    const relay = await spawnFixture(script, ['relay', String(sinkPort), String(h2Port)]);
    const [relaySinkPort, relayH2Port] = relay.ports as [number, number];
    progress(`target h2c :${h2Port}, sink :${sinkPort}, gateway :${gwPort} `);
    const open = (socket: Duplex): LoadSession =>
      clientKind === 'node' ? nodeSession(http2.connect(`http://${H2_NAME}:80`, { createConnection: () => socket })) : engineSession(socket);
    const sessions = async (via: 'direct' | 'gateway', n: number): Promise<LoadSession[]> =>
      Promise.all(
        Array.from({ length: n }, async () => {
          if (via === 'direct') return open(await dialPlain(h2Port));
          return open(await dialMeshed({ host: '127.0.0.1', port: gwPort }, client, GW_ID, { port: 80, name: H2_NAME, protocol: 'http2' }));
        }),
      );
    try {
      const result: Record<string, unknown> = {};
      for (const via of ['direct', 'gateway'] as const) {
        const s = await sessions(via, 4);
        await maxRate(s, `${H2_NAME}:80`, 16, 1); // warm-up
        progress(`${via}: ${rps} RPS for ${seconds}s`);
        const fixed = await fixedRate(s, `${H2_NAME}:80`, rps, seconds);
        progress(`${via}: closed loop, ${concurrency} in flight`);
        // The process under test (the target directly, or the gateway) gets core 1 to itself
        // for this phase; everything else shares core 0. The other phases run unpinned.
        const underTest = via === 'direct' ? target.child : gateway.child;
        const others = [process.pid, ...(via === 'direct' ? [] : [target.child.pid ?? 0])];
        await pin(underTest.pid ?? 0, '1');
        for (const pid of others) await pin(pid, '0');
        const cpuBefore = cpuSeconds(underTest.pid ?? 0);
        const max = await maxRate(s, `${H2_NAME}:80`, concurrency, Math.max(3, seconds / 2));
        // CPU per request of the process under test: unlike RPS, hardly affected by other load on the machine.
        const cpuUsPerRequest = Math.round(((cpuSeconds(underTest.pid ?? 0) - cpuBefore) * 1e6) / max.requests);
        for (const pid of [underTest.pid ?? 0, ...others]) await pin(pid, '0,1');
        for (const x of s) x.close();
        progress(`${via}: ${values['bulk-mb']} MB opaque TCP`);
        const sock =
          via === 'direct'
            ? await dialPlain(sinkPort)
            : await dialMeshed({ host: '127.0.0.1', port: gwPort }, client, GW_ID, { port: 9000, name: SINK_NAME });
        const { mbps, cpuMsPerMb: bulkCpuMsPerMb } = await measuredBulk(sock, bulkBytes, {
          client: process.pid,
          ...(via === 'gateway' ? { gateway: gateway.child.pid ?? 0 } : {}),
          sink: target.child.pid ?? 0,
        });
        const lat = summarize(fixed.latencies);
        result[via] = {
          // To the microsecond: the added latency is their difference, and rounding each to 0.1 ms
          // first would move it by up to 0.1 ms (a third of the p50 target).
          p50Ms: roundUs(lat?.p50 ?? NaN),
          p99Ms: roundUs(lat?.p99 ?? NaN),
          errors: fixed.errors,
          maxRps: Math.round(max.rps),
          cpuUsPerRequest,
          bulkMBps: Math.round(mbps),
          bulkCpuMsPerMb,
        };
      }
      // The reference floor for any relay written in Node: a plain TCP pipe (no TLS, no header, no
      // HTTP/2 parsing) in its own process, with the same fixed-rate requests and the same bulk bytes.
      const rs = await Promise.all(Array.from({ length: 4 }, async () => open(await dialPlain(relayH2Port))));
      await maxRate(rs, `${H2_NAME}:80`, 16, 1); // warm-up
      progress(`plain Node TCP relay: ${rps} RPS for ${seconds}s`);
      const relayed = summarize((await fixedRate(rs, `${H2_NAME}:80`, rps, seconds)).latencies);
      for (const x of rs) x.close();
      progress(`plain Node TCP relay: ${values['bulk-mb']} MB`);
      const plain = await measuredBulk(await dialPlain(relaySinkPort), bulkBytes, {
        client: process.pid,
        relay: relay.child.pid ?? 0,
        sink: target.child.pid ?? 0,
      });
      result['plainRelay'] = {
        p50Ms: roundUs(relayed?.p50 ?? NaN),
        p99Ms: roundUs(relayed?.p99 ?? NaN),
        bulkMBps: Math.round(plain.mbps),
        bulkCpuMsPerMb: plain.cpuMsPerMb,
      };
      const d = result['direct'] as { p50Ms: number; p99Ms: number; maxRps: number; bulkMBps: number; cpuUsPerRequest: number };
      const g = result['gateway'] as typeof d;
      const figures = {
        addedP50Ms: roundUs(g.p50Ms - d.p50Ms),
        addedP99Ms: roundUs(g.p99Ms - d.p99Ms),
        // What the plain relay adds at the same rate: two more hops through a process that does nothing else.
        plainRelayAddedP50Ms: roundUs((relayed?.p50 ?? NaN) - d.p50Ms),
        plainRelayAddedP99Ms: roundUs((relayed?.p99 ?? NaN) - d.p99Ms),
        // Wall clock: on two cores the gateway phase's client and target share the other core, and
        // that core, not the gateway, is what runs out (the gateway then uses less than its core).
        rpsRatio: Math.round((g.maxRps / d.maxRps) * 100) / 100,
        // Requests per CPU-second of the process under test, gateway over target: the RPS ratio each
        // reaches on one core of its own. The gateway's figure is a lower bound: it was measured below
        // saturation, where fewer requests share each read, write and timer.
        oneCoreRpsRatio: Math.round((d.cpuUsPerRequest / g.cpuUsPerRequest) * 100) / 100,
        bulkRatio: Math.round((g.bulkMBps / d.bulkMBps) * 100) / 100,
        // The same ratio for the plain relay: what a relay in Node reaches here before any TLS.
        plainRelayBulkRatio: Math.round((plain.mbps / d.bulkMBps) * 100) / 100,
      };
      const met = {
        addedP50: figures.addedP50Ms <= GATEWAY_TARGETS.addedP50Ms,
        addedP99: figures.addedP99Ms <= GATEWAY_TARGETS.addedP99Ms,
        rps: figures.oneCoreRpsRatio >= GATEWAY_TARGETS.rpsRatio,
        rpsWallClock: figures.rpsRatio >= GATEWAY_TARGETS.rpsRatio,
        bulk: figures.bulkRatio >= GATEWAY_TARGETS.bulkRatio,
      };
      return { bench: 'gateway', rps, seconds, concurrency, client: clientKind, ...result, ...figures, targets: GATEWAY_TARGETS, met };
    } finally {
      target.child.kill();
      gateway.child.kill();
      relay.child.kill();
    }
  },
};
