// `multicluster dev` as users run it: up, status, a second up refused, down leaving nothing.
// It uses a hidden slot of its own so that a developer's running dev clusters are untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ensureKubeBinaries } from '../dev/kube-binaries.ts';
import { isAlive } from '../dev/managed-process.ts';
import { run } from '../dev/exec.ts';
import { BIN } from './fixtures/cli.ts';

const SLOT = '38';

function mc(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function pidFiles(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await pidFiles(p)));
    else if (e.name.endsWith('.pid')) out.push(Number((await readFile(p, 'utf8')).split('\n')[0]));
  }
  return out;
}

test('without Go and without cached binaries, dev says what to install', async () => {
  const cache = await mkdtemp(join(tmpdir(), 'mc-empty-cache-'));
  try {
    const r = await mc(['dev', 'binaries'], { ...process.env, PATH: '/usr/bin:/bin', MULTICLUSTER_CACHE: cache });
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no Go toolchain on PATH\. Install Go/);
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
});

test('dev up, status, a refused second up, and a dev down that leaves nothing', async () => {
  const bins = await ensureKubeBinaries(() => {});
  const up = await mc(['dev', 'up', '--slot', SLOT]);
  const kubeconfig = up.stdout.trim();
  try {
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /ready in \d+(\.\d+)?s/);
    const ns = await run(bins.kubectl, ['--kubeconfig', kubeconfig, '--context', 'k3d-cluster2', 'get', 'ns', '-o', 'name']);
    assert.match(ns, /namespace\/kube-system/);

    const status = JSON.parse((await mc(['dev', 'status', '--slot', SLOT, '-o', 'json'])).stdout) as {
      agentAlive: boolean;
      podToPod: boolean;
      clusters: Array<{ context: string; reachable: boolean }>;
    };
    assert.equal(status.agentAlive, true);
    assert.equal(status.podToPod, false, 'gateway-only by default');
    assert.deepEqual(
      status.clusters.map((c) => [c.context, c.reachable]),
      [
        ['k3d-cluster1', true],
        ['k3d-cluster2', true],
      ],
    );

    const again = await mc(['dev', 'up', '--slot', SLOT]);
    assert.notEqual(again.code, 0);
    assert.equal(again.stdout, '');
    assert.match(again.stderr, /in use by process \d+/);
  } finally {
    const stateDir = join(kubeconfig, '..');
    const pids = await pidFiles(stateDir);
    const down = await mc(['dev', 'down', '--slot', SLOT]);
    assert.equal(down.code, 0, down.stderr);
    assert.ok(pids.length >= 7, `etcd, apiserver and controller-manager per cluster plus the agent: ${pids.join(',')}`);
    assert.deepEqual(
      pids.filter((p) => isAlive(p) && !isZombie(p)),
      [],
      'no process left',
    );
    assert.deepEqual(
      (await readdir('/run/netns').catch(() => [])).filter((n) => n.startsWith(`mc${SLOT}-`)),
      [],
      'no network namespace left',
    );
    assert.equal((await run('ip', ['-o', 'link', 'show'])).includes(`mc${SLOT}-host`), false, 'no host link left');
    await assert.rejects(access(stateDir), 'state directory removed');
  }
});

/** A killed child of an exited parent can linger as a zombie until init reaps it; it holds nothing. */
function isZombie(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}
