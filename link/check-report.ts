// Results of `multicluster check` and their two renderings. A table line is one check:
// √ passed, × failed, ‼ warning, with the reason and a hint on the same line. JSON keeps
// upstream's shape (success, categories[].checks[] with result success|warning|error) and
// adds the check id and Link, so scripts can tell which check failed for which Link.

export const CHECK_CATEGORY = 'linkerd-multicluster';

/** Every check `check` runs; the id is stable for scripts and tests. */
export type CheckId =
  | 'link-crd'
  | 'links-valid'
  | 'remote-credentials'
  | 'trust-anchors'
  | 'controller'
  | 'probe-endpoints'
  | 'gateway-alive'
  | 'mirror-endpoints'
  | 'orphan-mirrors';

export type CheckResult =
  | { id: CheckId; description: string; link?: string; status: 'ok'; detail?: string }
  | { id: CheckId; description: string; link?: string; status: 'warn' | 'fail'; message: string; hint: string };

export const isFailure = (r: CheckResult): boolean => r.status === 'fail';

export type CheckFormat = 'table' | 'json';

export function parseCheckFormat(text: string): CheckFormat | undefined {
  return text === 'table' || text === 'json' ? text : undefined;
}

const SYMBOL = { ok: '√', warn: '‼', fail: '×' } as const;

/** One line per check under upstream's category header, then a summary line. */
export function formatCheckTable(results: readonly CheckResult[]): string {
  const lines = [CHECK_CATEGORY, '-'.repeat(CHECK_CATEGORY.length)];
  for (const r of results) {
    const what = r.link === undefined ? r.description : `${r.description} [${r.link}]`;
    if (r.status === 'ok') lines.push(`${SYMBOL.ok} ${what}${r.detail ? ` (${oneLine(r.detail)})` : ''}`);
    else lines.push(`${SYMBOL[r.status]} ${what}: ${oneLine(r.message)}; hint: ${oneLine(r.hint)}`);
  }
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  const failed = count('fail');
  lines.push(
    '',
    `Status check results are ${failed > 0 ? SYMBOL.fail : SYMBOL.ok} (${count('ok')} passed, ${failed} failed, ${count('warn')} warnings)`,
  );
  return lines.join('\n') + '\n';
}

interface JsonCheck {
  id: CheckId;
  description: string;
  link?: string;
  result: 'success' | 'warning' | 'error';
  detail?: string;
  error?: string;
  hint?: string;
}

export function formatCheckJson(results: readonly CheckResult[]): string {
  const checks: JsonCheck[] = results.map((r) => {
    const base = { id: r.id, description: r.description, ...(r.link === undefined ? {} : { link: r.link }) };
    if (r.status === 'ok') return { ...base, result: 'success', ...(r.detail ? { detail: r.detail } : {}) };
    return { ...base, result: r.status === 'warn' ? 'warning' : 'error', error: r.message, hint: r.hint };
  });
  return JSON.stringify({ success: !results.some(isFailure), categories: [{ categoryName: CHECK_CATEGORY, checks }] }, null, 2) + '\n';
}

export function formatCheckResults(results: readonly CheckResult[], format: CheckFormat): string {
  return format === 'json' ? formatCheckJson(results) : formatCheckTable(results);
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();
