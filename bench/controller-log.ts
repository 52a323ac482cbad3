// Reads the controller's JSON log after a run: how often each warning or error was
// logged tells where a slow or failing run spent its retries.
import { readFile } from 'node:fs/promises';

/** `level: msg` → count, for every line at warn or above. */
export async function countProblems(logPath: string): Promise<Record<string, number>> {
  const text = await readFile(logPath, 'utf8').catch(() => '');
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let rec: { level?: unknown; msg?: unknown };
    try {
      rec = JSON.parse(line) as { level?: unknown; msg?: unknown };
    } catch {
      continue;
    }
    if (rec.level === 'warn' || rec.level === 'error') {
      const key = `${String(rec.level)}: ${String(rec.msg)}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  }
  return counts;
}
