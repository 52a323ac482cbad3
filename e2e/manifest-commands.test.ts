// Every container in what `install` and `link` output runs the project's image, and its
// command line is a `multicluster` subcommand that the binary accepts, with flags it accepts:
// the real commander program parses each one (with the actions replaced, so nothing runs).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command, type OutputConfiguration } from 'commander';
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { commands } from '../cli/commands.ts';
import { ENTRYPOINT, expandVars, isProjectImage } from '../dev/container-spec.ts';
import { renderLinkManifests } from '../link/link-render.ts';
import { renderManifests } from '../link/manifest.ts';
import { gatewayLinkInput } from '../link/test-fixtures.ts';
import { DEFAULT_IMAGE } from '../link/version.ts';
import { cli } from './fixtures/cli.ts';

type Parsed = { ok: true; command: string } | { ok: false; error: string };

const silent: OutputConfiguration = { writeOut: () => {}, writeErr: () => {} };

/** Parses argv (after the entrypoint) with the binary's own program; reports the leaf command that would run. */
function parseArgv(argv: readonly string[]): Parsed {
  let ran: string | undefined;
  const program = new Command('multicluster').exitOverride().configureOutput(silent);
  const prepare = (cmd: Command, path: string): void => {
    cmd.exitOverride().configureOutput(silent);
    if (cmd.commands.length === 0) cmd.action(() => void (ran = path));
    for (const sub of cmd.commands) prepare(sub, `${path} ${sub.name()}`);
  };
  for (const c of commands()) {
    prepare(c, c.name());
    program.addCommand(c);
  }
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  return ran ? { ok: true, command: ran } : { ok: false, error: 'no subcommand would run' };
}

interface Workload {
  source: string;
  object: string;
  pod: V1PodSpec;
}

function podSpecs(source: string, yamlOrJson: string): Workload[] {
  const list = JSON.parse(yamlOrJson) as { items: Array<{ kind: string; metadata: { name: string }; spec?: Record<string, unknown> }> };
  const out: Workload[] = [];
  for (const o of list.items) {
    const spec = o.spec as { template?: { spec?: V1PodSpec }; jobTemplate?: { spec?: { template?: { spec?: V1PodSpec } } } } | undefined;
    const pod = o.kind === 'Pod' ? (o.spec as unknown as V1PodSpec) : (spec?.template?.spec ?? spec?.jobTemplate?.spec?.template?.spec);
    if (pod) out.push({ source, object: `${o.kind}/${o.metadata.name}`, pod });
  }
  return out;
}

function argvOf(c: V1Container): string[] {
  const command = c.command ?? [];
  assert.ok(command.length === 0 || command[0] === ENTRYPOINT || command[0]?.endsWith(`/${ENTRYPOINT}`), `${c.name}: command ${command.join(' ')}`);
  // $(VAR) references resolve at run time; any value stands in for them here.
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, `value-of-${e.name}`]));
  return [...command.slice(1), ...(c.args ?? [])].map((a) => expandVars(a, env));
}

describe('container commands in the manifests', () => {
  let dir = '';
  const workloads: Workload[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mc-manifest-commands-'));
    await cli(['certs', 'anchor', '--out', dir]);
    await cli(['certs', 'issuer', '--ca-cert', join(dir, 'ca.crt'), '--ca-key', join(dir, 'ca.key'), '--out', join(dir, 'issuer')]);
    const installs: Array<[string, string[]]> = [
      ['install', []],
      ['install --controllers', ['--controllers', 'east', '--set', 'controllers[0].link.ref.name=flat,controllers[0].gateway.enabled=false']],
      [
        'install --control-plane',
        [
          '--control-plane',
          '--identity-trust-anchors-file',
          join(dir, 'ca.crt'),
          '--identity-issuer-certificate-file',
          join(dir, 'issuer', 'issuer.crt'),
          '--identity-issuer-key-file',
          join(dir, 'issuer', 'issuer.key'),
        ],
      ],
    ];
    for (const [name, args] of installs) workloads.push(...podSpecs(name, await cli(['install', ...args, '-o', 'json'])));
    const input = gatewayLinkInput();
    const controller = input.controller && { ...input.controller, image: DEFAULT_IMAGE };
    workloads.push(...podSpecs('link', renderManifests(renderLinkManifests({ ...input, controller }), 'json')));
    workloads.push(...podSpecs('link --gateway=false', renderManifests(renderLinkManifests({ ...input, gateway: undefined, controller }), 'json')));
  });

  after(() => rm(dir, { recursive: true, force: true }));

  it('the checker itself refuses unknown subcommands and flags', () => {
    assert.equal(parseArgv(['mirror', '--link', 'x']).ok, true);
    assert.match((parseArgv(['mirror', '--link', 'x', '--no-such-flag']) as { error: string }).error, /unknown option/);
    assert.match((parseArgv(['no-such-command']) as { error: string }).error, /unknown command/);
    assert.equal(parseArgv(['dev']).ok, false, 'a command group alone runs nothing');
  });

  it('covers the gateway, the mirror controllers and the control plane', () => {
    const objects = workloads.map((w) => `${w.source}: ${w.object}`);
    for (const expected of [
      'install: Deployment/linkerd-gateway',
      'install --controllers: Deployment/controller-east',
      'link: Deployment/controller-east',
    ]) {
      assert.ok(objects.includes(expected), `${expected} in\n${objects.join('\n')}`);
    }
    assert.ok(
      workloads.filter((w) => w.source === 'install --control-plane').length >= 3,
      `identity and destination come with --control-plane:\n${objects.join('\n')}`,
    );
  });

  it('every container runs the project image with a subcommand and flags the binary accepts', () => {
    const failures: string[] = [];
    for (const w of workloads) {
      for (const c of [...(w.pod.initContainers ?? []), ...w.pod.containers]) {
        const where = `${w.source}: ${w.object} container ${c.name}`;
        if (!isProjectImage(c.image)) failures.push(`${where}: image ${c.image ?? '(none)'} is not the project's image`);
        const argv = argvOf(c);
        const parsed = parseArgv(argv);
        if (!parsed.ok) failures.push(`${where}: \`multicluster ${argv.join(' ')}\`: ${parsed.error}`);
        // Probes must name ports the container declares.
        for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
          const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
          if (typeof port === 'string' && !c.ports?.some((p) => p.name === port)) failures.push(`${where}: probe port "${port}" is not declared`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  it('the default image is tagged with the package version, which the image build (k3d/up.sh) tags', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(DEFAULT_IMAGE.split(':').at(-1), pkg.version);
    const images = new Set(workloads.filter((w) => w.source.startsWith('install')).flatMap((w) => w.pod.containers.map((c) => c.image)));
    assert.deepEqual([...images], [DEFAULT_IMAGE]);
  });
});
