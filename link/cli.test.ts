// The commands as users run them: `node bin/multicluster.js ...`. Bad input must give a
// one-line error, a non-zero exit and nothing at all on stdout.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const BIN = fileURLToPath(new URL('../bin/multicluster.js', import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Result> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: '/nonexistent-home' };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Asserts the bad-input contract and returns the error line. */
function assertRefused(r: Result, pattern: RegExp, code = 2): void {
  assert.equal(r.stdout, '', 'nothing on stdout');
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, pattern);
  if (code === 2) assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
}

/** A localhost port nothing listens on (bound, then released). */
function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A kubeconfig file with one context `fake` whose API server is an unused localhost port. */
function writeKubeconfig(port: number): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mc-cli-test-')), 'kubeconfig');
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake-cluster', cluster: { server: `https://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake-cluster', user: 'admin' } }],
      'current-context': 'fake',
      users: [{ name: 'admin', user: { token: 'admin-token' } }],
    }),
    { mode: 0o600 },
  );
  return path;
}

// What link and unlink do with a reachable cluster is tested on real kube-apiservers in
// target-cluster.e2e.ts; here only what is decided before (or instead of) talking to one.
describe('multicluster link: bad input', { concurrency: true }, () => {
  let kubeconfig: string;
  before(async () => {
    kubeconfig = writeKubeconfig(await unusedPort());
  });

  it('requires --cluster-name', async () => {
    assertRefused(await cli(['link', '--kubeconfig', kubeconfig]), /required option '--cluster-name <name>'/, 1);
  });

  it('rejects a cluster name that is not a DNS label', async () => {
    assertRefused(
      await cli(['link', '--cluster-name', 'East_1', '--kubeconfig', kubeconfig]),
      /^Error: --cluster-name: "East_1" must be a DNS-1123 label/,
    );
  });

  it('rejects an invalid selector', async () => {
    assertRefused(
      await cli(['link', '--cluster-name', 'east', '-l', 'app in web', '--kubeconfig', kubeconfig]),
      /^Error: --selector: cannot parse "app in web"/,
    );
  });

  it('rejects gateway flags with --gateway=false', async () => {
    assertRefused(
      await cli(['link', '--cluster-name', 'east', '--gateway=false', '--gateway-port', '4143', '--kubeconfig', kubeconfig]),
      /^Error: --gateway-port cannot be used with --gateway=false/,
    );
  });

  it('rejects an unknown context', async () => {
    assertRefused(
      await cli(['link', '--cluster-name', 'east', '--context', 'nope', '--kubeconfig', kubeconfig]),
      /^Error: context "nope" not found in kubeconfig .*one of: fake/,
    );
  });

  it('rejects a missing kubeconfig', async () => {
    assertRefused(
      await cli(['link', '--cluster-name', 'east', '--kubeconfig', '/nonexistent/kubeconfig']),
      /^Error: cannot load kubeconfig \/nonexistent\/kubeconfig/,
    );
  });

  it('reports an unreachable API server', async () => {
    assertRefused(
      await cli(['link', '--cluster-name', 'east', '--kubeconfig', kubeconfig]),
      /^Error: cannot reach the API server of context "fake" .*ECONNREFUSED/,
    );
  });

  it('rejects an unknown output format before contacting the cluster', async () => {
    // The API server is unreachable: reaching it would give the ECONNREFUSED error instead.
    assertRefused(await cli(['link', '--cluster-name', 'east', '-o', 'xml', '--kubeconfig', kubeconfig]), /^Error: unsupported output format "xml"/);
  });
});

describe('multicluster install / allow / unlink: bad input', { concurrency: true }, () => {
  it('install rejects unknown --set keys', async () => {
    assertRefused(
      await cli(['install', '--set', 'gateway.colour=blue']),
      /^Error: --set gateway.colour: unknown key; supported keys are namespace, /,
    );
  });
  it('install rejects bad values', async () => {
    assertRefused(await cli(['install', '--set', 'gateway.port=http']), /^Error: --set gateway.port=http: expected a port number/);
    assertRefused(
      await cli(['install', '--gateway-service-type', 'Ingress']),
      /^Error: --gateway-service-type "Ingress": expected one of LoadBalancer, NodePort, ClusterIP/,
    );
    assertRefused(await cli(['install', '--controllers', 'ok,Not_OK']), /^Error: --controllers: "Not_OK" must be a DNS-1123 label/);
    assertRefused(await cli(['install', '--gateway=maybe']), /^Error: --gateway=maybe: expected true or false/);
  });
  it('install renders with --gateway=false', async () => {
    const r = await cli(['install', '--gateway=false']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /kind: Deployment\nmetadata:\n {2}name: linkerd-gateway\n/, 'no gateway Deployment');
    assert.match(r.stdout, /kind: Deployment\nmetadata:\n {2}name: linkerd-local-service-mirror\n/, 'the local mirror stays');
  });
  it('allow requires --service-account-name', async () => {
    assertRefused(await cli(['allow']), /required option '--service-account-name <name>'/, 1);
  });
  it('unlink validates its flags before contacting the cluster', async () => {
    assertRefused(await cli(['unlink']), /required option '--cluster-name <name>'/, 1);
    assertRefused(await cli(['unlink', '--cluster-name', 'East_1']), /^Error: --cluster-name: "East_1" must be a DNS-1123 label/);
  });
});
