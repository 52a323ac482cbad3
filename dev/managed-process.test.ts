// Issue 10's leak: a pod process started as `ip netns exec ... <workload>` exec'd into the
// workload, so its cmdline no longer named `ip` and the stale-state clean-up skipped it.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManagedProcess, isAlive, killRecordedProcesses, waitFor } from './managed-process.ts';

test('a recorded process is found by its pid file even after it execs another program', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mc-managed-process-'));
  try {
    const proc = await ManagedProcess.start({ name: 'workload', command: 'sh', args: ['-c', 'exec sleep 300'], stateDir: dir });
    await waitFor('the exec', async () => ((await readFile(`/proc/${proc.pid}/cmdline`, 'utf8')).startsWith('sleep') ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 20,
    });
    assert.equal(await killRecordedProcesses(dir), 1);
    await proc.exited;
    assert.equal(isAlive(proc.pid), false);
    assert.equal(proc.exitSignal, 'SIGKILL');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a pid file whose pid now belongs to another process is left alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mc-managed-process-'));
  try {
    const proc = await ManagedProcess.start({ name: 'workload', command: 'sleep', args: ['300'], stateDir: dir });
    const pidFile = join(dir, 'workload.pid');
    const [pid, command] = (await readFile(pidFile, 'utf8')).split('\n');
    // Same pid, another start time: what a recycled pid looks like.
    await writeFile(pidFile, `${pid}\n${command}\n1\n`);
    assert.equal(await killRecordedProcesses(dir), 0);
    assert.equal(isAlive(proc.pid), true);
    await proc.stop(1000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
