// Resource use of a process read from /proc (Linux): resident memory for the RSS target
// and CPU time, which shows where a slow phase spends its cycles (controller, apiserver,
// etcd, controller-manager).
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second for utime/stime; 100 on every Linux we run on. */
const CLK_TCK = 100;

export interface MemoryStats {
  rssMb: number;
  /** Peak resident set size since the process started. */
  peakRssMb: number;
}

export function memoryStats(pid: number): MemoryStats | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMb: round1(kb('VmRSS') / 1024), peakRssMb: round1(kb('VmHWM') / 1024) };
}

/** User + system CPU seconds the process has used so far (0 if it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** Busy CPU seconds of the whole machine so far (all cores, from /proc/stat). */
export function machineBusySeconds(): number {
  try {
    const [, user, nice, system, , , irq, softirq, steal] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLK_TCK;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds per named process between two points in time, plus `other`: what the rest
 * of the machine used meanwhile (other test runs skew a benchmark; this says how much).
 */
export class CpuMeter {
  readonly #pids: ReadonlyMap<string, number>;
  #start = new Map<string, number>();
  #t0 = 0;
  #machine0 = 0;

  constructor(pids: ReadonlyMap<string, number>) {
    this.#pids = pids;
    this.reset();
  }

  reset(): void {
    this.#t0 = performance.now();
    this.#machine0 = machineBusySeconds();
    this.#start = new Map([...this.#pids].map(([name, pid]) => [name, cpuSeconds(pid)]));
  }

  /** CPU seconds used by each process since `reset`, unrounded. */
  used(): Map<string, number> {
    return new Map([...this.#pids].map(([name, pid]) => [name, cpuSeconds(pid) - (this.#start.get(name) ?? 0)]));
  }

  /** CPU seconds used by each process since `reset`, the wall seconds elapsed, and everyone else's CPU seconds. */
  read(): Record<string, number> {
    const out: Record<string, number> = { wall_s: round1((performance.now() - this.#t0) / 1000) };
    let ours = 0;
    for (const [name, used] of this.used()) {
      ours += used;
      out[name] = round1(used);
    }
    out['other'] = round1(Math.max(0, machineBusySeconds() - this.#machine0 - ours));
    return out;
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
