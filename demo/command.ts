// `multicluster demo-app <app>`: the demo's applications, part of the one binary so that the
// dev clusters run them from the project's image like every other Pod. The only place in
// demo/ that reads flags and the environment.
import { hostname } from 'node:os';
import { Command } from 'commander';
import { parseListenAddr } from '../admin/admin-server.ts';
import { UsageError } from '../cli/usage-error.ts';
import { startEmoji, startVoting, startWeb } from './apps/emojivoto.ts';
import { startHello } from './apps/hello.ts';
import { parseTarget, startTraffic, type TrafficTarget } from './apps/traffic.ts';
import type { HostPort } from './apps/via-outbound.ts';
import { startWorld, type RunningApp } from './apps/world.ts';

interface Common {
  host?: string;
  cluster?: string;
}

function where(flags: Common): { host: string; pod: string; cluster: string } {
  return {
    host: flags.host ?? process.env['POD_IP'] ?? '0.0.0.0',
    pod: process.env['POD_NAME'] ?? hostname(),
    cluster: flags.cluster ?? process.env['CLUSTER_NAME'] ?? 'unknown',
  };
}

function port(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`invalid ${flag} "${text}": use a port from 1 to 65535`);
  return n;
}

function hostPort(flag: string, text: string): HostPort {
  try {
    return parseListenAddr(text);
  } catch (err) {
    throw new UsageError(`invalid ${flag}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function authority(flag: string, text: string | undefined): string {
  if (!text || !/^[a-z0-9.-]+:\d+$/.test(text)) throw new UsageError(`${flag} needs name:port, e.g. world-cluster2.demo.svc.cluster.local:8080`);
  return text;
}

async function runUntilSignal(start: () => Promise<RunningApp>): Promise<void> {
  const app = await start();
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await app.close();
}

const common = (cmd: Command) =>
  cmd
    .option('--host <ip>', 'address to listen on (default $POD_IP, else 0.0.0.0)')
    .option('--cluster <name>', 'cluster name in answers (default $CLUSTER_NAME)');

export function demoAppCommand(): Command {
  const app = new Command('demo-app').description("the demo's applications (run as Pods of the project's image)");
  app.addCommand(
    common(new Command('world'))
      .description('HTTP/1.1 and gRPC server answering who served the request')
      .option('--http-port <port>', 'HTTP port', '8080')
      .option('--grpc-port <port>', 'gRPC port', '8081')
      .action((f: Common & { httpPort: string; grpcPort: string }) =>
        runUntilSignal(() => startWorld({ ...where(f), httpPort: port('--http-port', f.httpPort), grpcPort: port('--grpc-port', f.grpcPort) })),
      ),
  );
  app.addCommand(
    common(new Command('hello'))
      .description('calls world over HTTP/1.1 and gRPC through its outbound proxy')
      .option('--port <port>', 'HTTP port', '8080')
      .option('--outbound-http1 <addr>', 'outbound proxy HTTP/1 listener', '127.0.0.1:4140')
      .option('--outbound-http2 <addr>', 'outbound proxy HTTP/2 listener', '127.0.0.1:4142')
      .option('--world-http <name:port>', "world's HTTP authority")
      .option('--world-grpc <name:port>', "world's gRPC authority")
      .action((f: Common & { port: string; outboundHttp1: string; outboundHttp2: string; worldHttp?: string; worldGrpc?: string }) =>
        runUntilSignal(() =>
          startHello({
            ...where(f),
            port: port('--port', f.port),
            outboundHttp1: hostPort('--outbound-http1', f.outboundHttp1),
            outboundHttp2: hostPort('--outbound-http2', f.outboundHttp2),
            worldHttp: authority('--world-http', f.worldHttp),
            worldGrpc: authority('--world-grpc', f.worldGrpc),
          }),
        ),
      ),
  );
  for (const [name, start] of [
    ['emoji', startEmoji],
    ['voting', startVoting],
  ] as const) {
    app.addCommand(
      common(new Command(name))
        .description(`the emojivoto-like ${name} service`)
        .option('--port <port>', 'HTTP port', '8080')
        .action((f: Common & { port: string }) => runUntilSignal(() => start({ ...where(f), port: port('--port', f.port) }))),
    );
  }
  app.addCommand(
    common(new Command('web'))
      .description('the emojivoto-like front end: calls emoji and voting through its outbound proxy')
      .option('--port <port>', 'HTTP port', '8080')
      .option('--outbound <addr>', 'outbound proxy HTTP/1 listener', '127.0.0.1:4140')
      .option('--emoji <name:port>', "emoji service's authority")
      .option('--voting <name:port>', "voting service's authority")
      .action((f: Common & { port: string; outbound: string; emoji?: string; voting?: string }) =>
        runUntilSignal(() =>
          startWeb({
            ...where(f),
            port: port('--port', f.port),
            outbound: hostPort('--outbound', f.outbound),
            emoji: authority('--emoji', f.emoji),
            voting: authority('--voting', f.voting),
          }),
        ),
      ),
  );
  app.addCommand(
    common(new Command('traffic'))
      .description('steady requests to targets through the outbound proxy, with per-target metrics on /metrics')
      .option('--metrics-port <port>', 'metrics port', '9090')
      .option('--outbound <addr>', 'outbound proxy HTTP/1 listener', '127.0.0.1:4140')
      .option('--target <name=[POST:]name:port/path>', 'a target (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
      .option('--rps <n>', 'requests per second per target', '5')
      .action((f: Common & { metricsPort: string; outbound: string; target: string[]; rps: string }) => {
        const targets: TrafficTarget[] = f.target.map((t) => {
          const parsed = parseTarget(t);
          if (!parsed) throw new UsageError(`invalid --target "${t}": use name=authority/path or name=POST:authority/path`);
          return parsed;
        });
        if (targets.length === 0) throw new UsageError('traffic needs at least one --target');
        const rps = Number(f.rps);
        if (!(rps > 0 && rps <= 1000)) throw new UsageError(`invalid --rps "${f.rps}": use a number from 0 to 1000`);
        return runUntilSignal(() =>
          startTraffic({
            ...where(f),
            metricsPort: port('--metrics-port', f.metricsPort),
            outbound: hostPort('--outbound', f.outbound),
            targets,
            ratePerSecond: rps,
          }),
        );
      }),
  );
  return app;
}
