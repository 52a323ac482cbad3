// `multicluster demo [--once] [--json]`: the two-cluster demo on the project's own manifests.
// Interactive: progress, the mirrors, the gateways table, then a live table of top-line
// figures until Ctrl-C, then teardown. `--once`: run, check, one summary, teardown, exit code.
import { Command, Option } from 'commander';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { Defaults, ObjectNames } from '../model/linkerd-names.ts';
import { UsageError } from '../cli/usage-error.ts';
import { tryParseGoDuration } from '../duration/go-duration.ts';
import { cliEntrypoint } from '../project/paths.ts';
import { bringUpDemo, DemoStepError, mirrors, tearDownDemo, type DemoEnvironment } from './demo-run.ts';
import { figures, formatFigures, snapshot, trafficUrl, type ServiceFigures } from './demo-report.ts';
import { run } from './exec.ts';
import { requireRoot } from './dev-command.ts';

/** A service counts as working when at least this share of its requests succeeded. */
const MIN_SUCCESS_RATE = 0.95;
const REFRESH_MS = 2000;
const WARM_UP_MS = 60_000;
const LINKED_CLUSTER = 'cluster2';
/** The controller's --metrics-addr in the manifests `link` writes. */
const CONTROLLER_METRICS_PORT = 9999;

interface DemoFlags {
  once: boolean;
  json: boolean;
  duration: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function gatewaysTable(env: DemoEnvironment, output: 'table' | 'json'): Promise<string> {
  const metrics = await leaderMetricsUrl(env);
  const args = [
    'gateways',
    '--kubeconfig',
    env.pair.kubeconfigPath,
    '--context',
    env.pair.cluster1.context,
    // The probe latency (LATENCY) is known only to the controller that holds the Link's Lease.
    ...(metrics ? ['--metrics-url', `${LINKED_CLUSTER}=${metrics.href}`] : []),
    ...(output === 'json' ? ['-o', 'json'] : []),
  ];
  return run(process.execPath, [cliEntrypoint(), ...args]);
}

/** The metrics address of the controller Pod that holds cluster2's Link Lease in cluster1 (its identity is the Pod name). */
async function leaderMetricsUrl(env: DemoEnvironment): Promise<URL | undefined> {
  const kc = env.pair.cluster1.kubeConfig;
  try {
    const lease = await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: ObjectNames.lease(LINKED_CLUSTER), namespace: Defaults.namespace });
    const holder = lease.spec?.holderIdentity;
    if (!holder) return undefined;
    const pod = await kc.makeApiClient(CoreV1Api).readNamespacedPod({ name: holder, namespace: Defaults.namespace });
    return pod.status?.podIP ? new URL(`http://${pod.status.podIP}:${CONTROLLER_METRICS_PORT}/metrics`) : undefined;
  } catch {
    // Without it the table still shows ALIVE and NUM_SVC from the cluster.
    return undefined;
  }
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the two-cluster demo: dev clusters, install, link, demo apps, traffic; tears it all down at the end')
    .addOption(new Option('--once', 'run, check every step, print a summary and exit (non-zero if anything failed)').default(false))
    .addOption(new Option('--json', 'with --once: print the summary as one JSON object').default(false))
    .option('--duration <d>', 'with --once: how long to measure traffic', '20s')
    .action(async (flags: DemoFlags) => {
      requireRoot();
      const durationMs = tryParseGoDuration(flags.duration);
      if (durationMs === undefined || durationMs <= 0) throw new UsageError(`invalid --duration "${flags.duration}": use a Go duration such as 20s`);
      if (flags.json && !flags.once) throw new UsageError('--json goes with --once');
      const started = Date.now();
      const progress = (m: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${m}\n`);
      let env: DemoEnvironment;
      try {
        env = await bringUpDemo(progress);
      } catch (err) {
        if (flags.json) process.stdout.write(`${JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) })}\n`);
        if (err instanceof DemoStepError) throw new Error(`demo failed at ${err.message}`);
        throw err;
      }
      try {
        if (flags.once) await once(env, durationMs, flags.json);
        else await live(env, progress);
      } finally {
        progress('tearing down');
        await tearDownDemo(env);
      }
    });
}

async function once(env: DemoEnvironment, durationMs: number, json: boolean): Promise<void> {
  const url = await trafficUrl(env.pair.cluster1);
  await warmUp(url);
  const before = await snapshot(url);
  await sleep(durationMs);
  const services: ServiceFigures[] = figures(before, await snapshot(url));
  const failing = services.filter((s) => (s.successRate ?? 0) < MIN_SUCCESS_RATE).map((s) => s.target);
  const gateways = JSON.parse(await gatewaysTable(env, 'json')) as unknown;
  const summary = {
    ok: failing.length === 0 && services.length > 0,
    failing,
    steps: env.steps,
    mirrors: await mirrors(env.pair.cluster1),
    gateways,
    services,
  };
  if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(`mirrors:\n  ${summary.mirrors.join('\n  ')}\n\n${await gatewaysTable(env, 'table')}\n${formatFigures(services)}`);
  if (!summary.ok) process.exitCode = 1;
}

/** Waits (bounded) until every target has answered once: the first requests race the proxies' certificates. */
async function warmUp(url: URL): Promise<void> {
  const deadline = Date.now() + WARM_UP_MS;
  while (Date.now() < deadline) {
    const s = await snapshot(url).catch(() => undefined);
    const rows = s ? figures({ at: 0, samples: [] }, s) : [];
    if (rows.length > 0 && rows.every((r) => r.requests > 0 && (r.successRate ?? 0) > 0)) return;
    await sleep(500);
  }
}

async function live(env: DemoEnvironment, progress: (m: string) => void): Promise<void> {
  process.stdout.write(`kubeconfig: ${env.pair.kubeconfigPath}\n\nmirrors in cluster1:\n  ${(await mirrors(env.pair.cluster1)).join('\n  ')}\n\n`);
  process.stdout.write(`${await gatewaysTable(env, 'table')}\n`);
  progress('traffic is flowing; Ctrl-C to stop and tear down');
  const url = await trafficUrl(env.pair.cluster1);
  let stop = false;
  const onSignal = () => (stop = true);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let before = await snapshot(url);
  while (!stop) {
    await sleep(REFRESH_MS);
    const after = await snapshot(url).catch(() => before);
    // Redraw in place: move the cursor up over the last table.
    const table = formatFigures(figures(before, after));
    process.stdout.write(`${table}\x1b[${table.split('\n').length - 1}A`);
    before = after;
  }
  process.stdout.write('\n'.repeat(8));
}
