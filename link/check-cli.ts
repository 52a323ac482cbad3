// CLI wiring for `check` and `gateways`: flags are parsed and validated once, the whole
// output is rendered before anything is printed, and failures are one line.
import { Command, Option } from 'commander';
import { UsageError } from '../cli/usage-error.ts';
import { runAction } from './run-action.ts';
import { Defaults } from '../model/linkerd-names.ts';
import { runChecksUntil } from './check.ts';
import { formatCheckResults, isFailure, parseCheckFormat } from './check-report.ts';
import { tryParseGoDuration } from '../duration/go-duration.ts';
import { formatGatewaysJson, formatGatewaysTable, readGateways } from './gateways.ts';
import { parseMetricsUrls } from './gateways-metrics.ts';
import { loadKubeAccess } from './kube-access.ts';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function durationFlag(flag: string, text: string, allowZero: boolean): number {
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : tryParseGoDuration(text);
  if (ms === undefined || (!allowZero && ms <= 0)) throw new UsageError(`${flag} "${text}": expected a duration such as 10s, 1m or 5m`);
  return ms;
}

/** Keeps usage errors; anything else is cut to its first line. */
interface CommonFlags {
  context?: string;
  kubeconfig?: string;
  namespace: string;
  metricsUrl: string[];
  timeout: string;
  output: string;
}

function withCommonFlags(cmd: Command): Command {
  return cmd
    .option('--context <name>', 'kubeconfig context of the SOURCE cluster (where the Links are)')
    .option('--kubeconfig <path>', 'kubeconfig file (default $KUBECONFIG or ~/.kube/config)')
    .option('--namespace <ns>', 'namespace of the Links', Defaults.namespace)
    .option('--metrics-url <link=url>', "a Link's controller metrics, e.g. cluster2=http://10.0.0.7:9999/metrics (repeatable)", collect, [])
    .option('--timeout <duration>', 'timeout of each request', '10s')
    .addOption(new Option('-o, --output <format>', 'output format: table or json').default('table'));
}

function format(text: string) {
  const f = parseCheckFormat(text);
  if (!f) throw new UsageError(`-o "${text}": expected table or json`);
  return f;
}

interface CheckFlags extends CommonFlags {
  linkerdNamespace: string;
  wait: string;
}

export function checkCommand(env: NodeJS.ProcessEnv): Command {
  const cmd = withCommonFlags(
    new Command('check').description(
      'Check the multicluster setup of the SOURCE cluster: Link CRD and Links, remote ' +
        'credentials, shared trust anchor, controllers, gateways and mirrors (exit 1 on any failure)',
    ),
  )
    .option('--linkerd-namespace <ns>', "Linkerd's namespace in this cluster (the target's comes from its Link)", Defaults.linkerdNamespace)
    .option('--wait <duration>', 'retry failing checks until they pass or this much time has passed', '0s');
  return cmd.action((flags: CheckFlags) =>
    runAction(async () => {
      const output = format(flags.output);
      const timeoutMs = durationFlag('--timeout', flags.timeout, false);
      const waitMs = durationFlag('--wait', flags.wait, true);
      const metricsUrls = parseMetricsUrls(flags.metricsUrl);
      const access = loadKubeAccess({ kubeconfig: flags.kubeconfig, context: flags.context, timeoutMs }, env);
      const results = await runChecksUntil(
        { access, namespace: flags.namespace, linkerdNamespace: flags.linkerdNamespace, metricsUrls },
        waitMs,
        (failing) => {
          process.stderr.write(
            `waiting for ${failing.length} failing check(s): ${failing.map((r) => r.id + (r.link ? `[${r.link}]` : '')).join(', ')}\n`,
          );
        },
      );
      process.stdout.write(formatCheckResults(results, output));
      if (results.some(isFailure)) process.exitCode = 1;
    }),
  );
}

interface GatewaysFlags extends CommonFlags {
  clusterName?: string;
}

export function gatewaysCommand(env: NodeJS.ProcessEnv): Command {
  const cmd = withCommonFlags(
    new Command('gateways').description(
      "Show each linked cluster's gateway: ALIVE, mirrored Services (NUM_SVC) and probe LATENCY (p50/p95/p99; needs --metrics-url)",
    ),
  ).option('--cluster-name <name>', 'only this target cluster');
  return cmd.action((flags: GatewaysFlags) =>
    runAction(async () => {
      const output = format(flags.output);
      const timeoutMs = durationFlag('--timeout', flags.timeout, false);
      const metricsUrls = parseMetricsUrls(flags.metricsUrl);
      const access = loadKubeAccess({ kubeconfig: flags.kubeconfig, context: flags.context, timeoutMs }, env);
      const rows = await readGateways({ access, namespace: flags.namespace, clusterName: flags.clusterName, metricsUrls });
      const text = output === 'json' ? formatGatewaysJson(rows) : formatGatewaysTable(rows);
      process.stdout.write(text);
      if (output === 'table' && rows.some((r) => r.source === 'cluster')) {
        process.stderr.write(
          "note: without --metrics-url, ALIVE comes from the Link's GatewayAlive condition, NUM_SVC from counting mirror Services, and LATENCY is not known\n",
        );
      }
    }),
  );
}
