// Long-running children (etcd, kube-apiserver, controller-manager, pod workloads). Each is
// its own process group with a pid file in the pair's state directory, and carries its slot's
// marker in its environment (harness-marker.ts), so a later run can find and stop what a
// crashed run left behind.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { markerEnv, processStartTime, slotOfDir } from './harness-marker.ts';

export interface ProcessSpec {
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Directory for `<name>.pid` and `<name>.log`. */
  stateDir: string;
  /** Keep running after this Node process exits (dev up daemons). */
  detach?: boolean;
  /** The pair slot the process belongs to; by default the slot whose state directory holds stateDir. */
  slot?: number;
}

export class ManagedProcess {
  #exited: Promise<void>;
  #exitCode: number | null = null;
  #exitSignal: NodeJS.Signals | null = null;
  #running = true;

  private constructor(
    readonly spec: ProcessSpec,
    readonly pid: number,
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  ) {
    this.#exited = exited.then(({ code, signal }) => {
      this.#exitCode = code;
      this.#exitSignal = signal;
      this.#running = false;
    });
  }

  static async start(spec: ProcessSpec): Promise<ManagedProcess> {
    await mkdir(spec.stateDir, { recursive: true });
    const logPath = join(spec.stateDir, `${spec.name}.log`);
    const fd = openSync(logPath, 'a');
    const slot = spec.slot ?? slotOfDir(spec.stateDir);
    const child = spawn(spec.command, [...spec.args], {
      env: { ...(spec.env ?? process.env), ...(slot === undefined ? {} : markerEnv(slot)) },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    const pid = child.pid;
    if (pid === undefined) {
      throw new Error(`could not start ${spec.name} (${spec.command}): check that the binary exists and is executable`);
    }
    if (spec.detach) child.unref();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    // The start time identifies the process even after it exec'd another program (`ip netns exec` does).
    await writeFile(join(spec.stateDir, `${spec.name}.pid`), `${pid}\n${spec.command}\n${(await processStartTime(pid)) ?? ''}\n`);
    return new ManagedProcess(spec, pid, exited);
  }

  get running(): boolean {
    return this.#running;
  }

  get exitCode(): number | null {
    return this.#exitCode;
  }

  /** The signal that ended the process, if one did. */
  get exitSignal(): NodeJS.Signals | null {
    return this.#exitSignal;
  }

  /** Resolves once the process has exited. */
  get exited(): Promise<void> {
    return this.#exited;
  }

  get logPath(): string {
    return join(this.spec.stateDir, `${this.spec.name}.log`);
  }

  async lastLog(lines = 20): Promise<string> {
    const text = await readFile(this.logPath, 'utf8').catch(() => '');
    return text.trim().split('\n').slice(-lines).join('\n');
  }

  /** SIGTERM to the whole group, SIGKILL after the grace period. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.#running) {
      signalGroup(this.pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), graceMs);
      await this.#exited;
      clearTimeout(timer);
    }
    // The group may hold grandchildren (ip netns exec → workload) that outlive the leader.
    signalGroup(this.pid, 'SIGKILL');
    await rm(join(this.spec.stateDir, `${this.spec.name}.pid`), { force: true });
  }

  /** Kills without the grace period: the fault-injection path. */
  async kill(): Promise<void> {
    signalGroup(this.pid, 'SIGKILL');
    await this.#exited;
    await rm(join(this.spec.stateDir, `${this.spec.name}.pid`), { force: true });
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops every process recorded by pid files under `dir`, checking its start time so a recycled pid is left alone. */
export async function killRecordedProcesses(dir: string): Promise<number> {
  let killed = 0;
  const files = await readdir(dir).catch(() => [] as string[]);
  for (const f of files.filter((x) => x.endsWith('.pid'))) {
    const [pidText, command, started] = (await readFile(join(dir, f), 'utf8').catch(() => '')).split('\n');
    const pid = Number(pidText);
    if (Number.isInteger(pid) && pid > 1 && isAlive(pid)) {
      // The command check alone missed workloads: after `ip netns exec` their cmdline no longer names `ip`.
      const same = started
        ? (await processStartTime(pid)) === started
        : (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(command ?? '\0');
      if (same) {
        signalGroup(pid, 'SIGKILL');
        killed++;
      }
    }
    await rm(join(dir, f), { force: true });
  }
  return killed;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; onTimeout?: () => Promise<string> },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const extra = opts.onTimeout ? `\n${await opts.onTimeout()}` : '';
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${cause}${extra}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}
