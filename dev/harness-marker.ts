// Where a pair's state lives, and the marker every process the harness starts carries in its
// environment. Pid files miss processes that escaped their group or whose pid file is gone
// (a run killed mid-teardown); the marker is inherited by every descendant, so a sweep of
// /proc/*/environ finds them all, even in network namespaces that no longer exist.
import { readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';

export const SLOT_MARKER = 'MULTICLUSTER_HARNESS_SLOT';
/** Also the variable that overrides the state root, so children resolve the same slot directories. */
export const ROOT_MARKER = 'MULTICLUSTER_HARNESS_DIR';

export function stateRoot(): string {
  return process.env[ROOT_MARKER] ?? join(tmpdir(), 'multicluster-harness');
}

export function slotDir(slot: number): string {
  return join(stateRoot(), `slot-${slot}`);
}

/** The slot whose state directory holds `dir`, if any: every process started there belongs to that slot. */
export function slotOfDir(dir: string): number | undefined {
  const rel = relative(stateRoot(), dir);
  if (rel.startsWith('..')) return undefined;
  const m = /^slot-(\d+)$/.exec(rel.split(sep)[0] ?? '');
  return m ? Number(m[1]) : undefined;
}

export function markerEnv(slot: number): Record<string, string> {
  return { [SLOT_MARKER]: String(slot), [ROOT_MARKER]: stateRoot() };
}

export interface MarkedProcess {
  pid: number;
  slot: number;
}

/** Every live process carrying the marker of this state root (other roots' pairs are not ours to judge). */
export async function markedProcesses(): Promise<MarkedProcess[]> {
  const root = stateRoot();
  const out: MarkedProcess[] = [];
  const entries = await readdir('/proc').catch(() => [] as string[]);
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
    if (!environ.includes(SLOT_MARKER)) continue;
    const vars = new Map(
      environ
        .split('\0')
        .map((kv) => kv.split('=', 2) as [string, string?])
        .filter((kv): kv is [string, string] => kv[1] !== undefined),
    );
    const slot = Number(vars.get(SLOT_MARKER));
    if (Number.isInteger(slot) && vars.get(ROOT_MARKER) === root) out.push({ pid, slot });
  }
  return out;
}

/** SIGKILLs every marked process of the slots `which` selects, except this process and its ancestors. */
export async function killMarked(which: (slot: number) => boolean): Promise<number[]> {
  const spare = await ancestors();
  const killed: number[] = [];
  for (const p of await markedProcesses()) {
    if (!which(p.slot) || spare.has(p.pid)) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
      killed.push(p.pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return killed;
}

async function ancestors(): Promise<Set<number>> {
  const out = new Set<number>([process.pid]);
  let pid = process.ppid;
  while (pid > 1 && !out.has(pid)) {
    out.add(pid);
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // The command name may hold spaces and parentheses; the fields after the last ')' do not.
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return out;
}

/** The kernel's start time of `pid` (clock ticks since boot): with the pid, an identity that survives exec. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}
