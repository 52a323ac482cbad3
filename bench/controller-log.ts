// Reads the controller's JSON log after a run: how often each warning or error was
// logged tells where a slow or failing run spent its retries.
import { readFile } from 'node:fs/promises';

interface LogRecord {
  level?: unknown;
  msg?: unknown;
  reason?: unknown;
}

async function records(logPath: string): Promise<LogRecord[]> {
  const text = await readFile(logPath, 'utf8').catch(() => '');
  const out: LogRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch {
      // A line cut short by the process ending.
    }
  }
  return out;
}

function tally(keys: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const k of keys) counts[k] = (counts[k] ?? 0) + 1;
  return counts;
}

/** `level: msg` → count, for every line at warn or above. */
export async function countProblems(logPath: string): Promise<Record<string, number>> {
  const recs = await records(logPath);
  return tally(recs.filter((r) => r.level === 'warn' || r.level === 'error').map((r) => `${String(r.level)}: ${String(r.msg)}`));
}

/**
 * What the controller wrote, by outcome (e.g. `gateway: service created, endpoints created`):
 * each object written twice where once would do is API-server time the reference does not spend.
 */
export async function countWrites(logPath: string): Promise<Record<string, number>> {
  const recs = await records(logPath);
  return tally(recs.filter((r) => r.msg === 'mirror written' || r.msg === 'mirror removed').map((r) => `${String(r.msg)}: ${String(r.reason)}`));
}
