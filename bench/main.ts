// `npm run bench -- <name> [flags]`: runs one benchmark. Progress goes to stderr; the last
// line on stdout is a single JSON object with every figure. Benchmarks live apart from the
// tests: timing belongs here, never in a test.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { destroySlot, stateRoot } from '../dev/cluster-pair.ts';
import { BenchUsageError, type Benchmark } from './benchmark.ts';
import { destinationBenchmark } from './destination.ts';
import { gatewayBenchmark } from './gateway.ts';
import { mirrorBenchmark } from './mirror.ts';

const BENCHMARKS: ReadonlyMap<string, Benchmark> = new Map([mirrorBenchmark, destinationBenchmark, gatewayBenchmark].map((b) => [b.name, b]));

function listing(): string {
  return ['usage: npm run bench -- <name> [flags]', ...[...BENCHMARKS.values()].map((b) => `  ${b.name.padEnd(10)} ${b.summary}`)].join('\n');
}

const progress = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

const [name, ...argv] = process.argv.slice(2);
const bench = name === undefined ? undefined : BENCHMARKS.get(name);
if (!bench) {
  process.stderr.write(`${name === undefined ? '' : `unknown benchmark "${name}"\n`}${listing()}\n`);
  process.exit(2);
}

// The clusters run in their own process groups, so Ctrl-C would leave them behind until
// the next harness start cleans stale slots; tear down the slots this process owns instead.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    progress(`${sig}: destroying this run's cluster pairs`);
    void destroyOwnSlots().finally(() => process.exit(130));
  });
}

async function destroyOwnSlots(): Promise<void> {
  for (const entry of await readdir(stateRoot()).catch(() => [] as string[])) {
    const slot = /^slot-(\d+)$/.exec(entry)?.[1];
    const owner = await readFile(join(stateRoot(), entry, 'owner.pid'), 'utf8').catch(() => '');
    if (slot !== undefined && Number(owner) === process.pid) await destroySlot(Number(slot));
  }
}

try {
  const result = await bench.run(argv, progress);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (err) {
  if (err instanceof BenchUsageError) {
    process.stderr.write(`Error: ${err.message}\n${bench.usage}\n`);
    process.exit(2);
  }
  throw err;
}
