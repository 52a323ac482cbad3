// Where a propagation's time goes. The controller logs each mirror write with the time its
// change reached the controller (`event_at`, epoch ms) and how long it queued (`queued_ms`);
// the log line's own `ts` is when the local write finished. With the bench's clock on either
// side, one propagation splits into four stages:
//   remote write → event at the controller → reconcile start → local write done → seen by the bench's watch.
import { open } from 'node:fs/promises';
import { summarize } from './quantiles.ts';
import { sleep } from './mirror-propagation.ts';

export type Stage = 'write_to_event' | 'event_to_reconcile' | 'reconcile_to_local_write' | 'local_write_to_seen';
export const STAGES: readonly Stage[] = ['write_to_event', 'event_to_reconcile', 'reconcile_to_local_write', 'local_write_to_seen'];

export type StageSamples = Record<Stage, number[]> & { unmatched: number };

export function emptyStages(): StageSamples {
  return { write_to_event: [], event_to_reconcile: [], reconcile_to_local_write: [], local_write_to_seen: [], unmatched: 0 };
}

/** One mirror write as the controller logged it. */
export interface WriteRecord {
  object: string;
  eventAt: number;
  queuedMs: number;
  doneAt: number;
}

const WRITE_MESSAGES = new Set(['mirror written', 'mirror removed']);
/** How long to wait for the controller's log line after the watch saw the write (the log is flushed asynchronously). */
const LOG_WAIT_MS = 2000;

/** Parses one controller log line; undefined unless it is a mirror write with timing fields. */
export function parseWriteRecord(line: string): WriteRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r['msg'] !== 'string' || !WRITE_MESSAGES.has(r['msg'])) return undefined;
  const { object, event_at: eventAt, queued_ms: queuedMs, ts } = r;
  if (typeof object !== 'string' || typeof eventAt !== 'number' || typeof queuedMs !== 'number' || typeof ts !== 'string') return undefined;
  const doneAt = Date.parse(ts);
  return Number.isFinite(doneAt) ? { object, eventAt, queuedMs, doneAt } : undefined;
}

/** Splits one propagation, `writeAt` and `seenAt` on the bench's epoch clock, into its stages. */
export function stagesOf(rec: WriteRecord, writeAt: number, seenAt: number): Record<Stage, number> {
  const startedAt = rec.eventAt + rec.queuedMs;
  return {
    write_to_event: rec.eventAt - writeAt,
    event_to_reconcile: rec.queuedMs,
    // `ts` has millisecond resolution: a sub-millisecond stage may read slightly negative.
    reconcile_to_local_write: Math.max(0, rec.doneAt - startedAt),
    local_write_to_seen: Math.max(0, seenAt - rec.doneAt),
  };
}

/** Follows the controller's log file and matches each measured propagation with its write. */
export class StageTracer {
  readonly #path: string;
  #offset = 0;
  #partial = '';
  readonly #records: WriteRecord[] = [];

  constructor(logPath: string) {
    this.#path = logPath;
  }

  /** Skips what is already in the log (the initial sync). */
  async skipToEnd(): Promise<void> {
    await this.#read();
    this.#records.length = 0;
  }

  /** Adds the stages of the write of `object` made at `writeAt` and seen at `seenAt` (performance.now() values). */
  async record(into: StageSamples, object: string, writeAt: number, seenAt: number): Promise<void> {
    const writeEpoch = performance.timeOrigin + writeAt;
    const seenEpoch = performance.timeOrigin + seenAt;
    const deadline = performance.now() + LOG_WAIT_MS;
    for (;;) {
      await this.#read();
      // The write's event cannot precede the request that caused it (1 ms slack for rounding).
      const i = this.#records.findIndex((r) => r.object === object && r.eventAt >= writeEpoch - 1);
      if (i >= 0) {
        const [rec] = this.#records.splice(i, 1);
        const s = stagesOf(rec as WriteRecord, writeEpoch, seenEpoch);
        for (const stage of STAGES) into[stage].push(s[stage]);
        return;
      }
      if (performance.now() > deadline) {
        into.unmatched++;
        return;
      }
      await sleep(20);
    }
  }

  async #read(): Promise<void> {
    const fh = await open(this.#path, 'r');
    try {
      const { size } = await fh.stat();
      if (size <= this.#offset) return;
      const buf = Buffer.alloc(size - this.#offset);
      await fh.read(buf, 0, buf.length, this.#offset);
      this.#offset = size;
      const lines = (this.#partial + buf.toString('utf8')).split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) {
        const rec = parseWriteRecord(line);
        if (rec) this.#records.push(rec);
      }
    } finally {
      await fh.close();
    }
  }
}

/** p50/p99 per stage, in ms with one decimal. */
export function stageSummary(s: StageSamples): Record<string, unknown> {
  const out: Record<string, unknown> = { unmatched: s.unmatched };
  for (const stage of STAGES) {
    const q = summarize(s[stage]);
    out[stage] = q ? { count: q.count, p50: r1(q.p50), p99: r1(q.p99), max: r1(q.max) } : null;
  }
  return out;
}

function r1(x: number): number {
  return Math.round(x * 10) / 10;
}
