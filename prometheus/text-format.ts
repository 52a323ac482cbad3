// The Prometheus text exposition format (0.0.4), parsed into samples: what `gateways`,
// `check`, the demo and the benchmarks read from the controllers' and API servers' /metrics.

export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

export class MetricsParseError extends Error {
  override readonly name = 'MetricsParseError';
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/** Samples of a Prometheus text exposition (format 0.0.4); comments and blank lines are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const name = NAME.exec(line)?.[0];
    if (!name) throw new MetricsParseError(`line ${i + 1}: expected a metric name: ${line.slice(0, 80)}`);
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      const parsed = parseLabels(rest, i + 1);
      Object.assign(labels, parsed.labels);
      rest = rest.slice(parsed.length);
    }
    const valueText = rest.trim().split(/\s+/)[0] ?? '';
    const value = parseSampleValue(valueText);
    if (value === undefined) throw new MetricsParseError(`line ${i + 1}: "${valueText}" is not a sample value`);
    out.push({ name, labels, value });
  });
  return out;
}

function parseLabels(text: string, lineNo: number): { labels: Record<string, string>; length: number } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (text[i] === '}') return { labels, length: i + 1 };
    const key = NAME.exec(text.slice(i))?.[0];
    if (!key || text[i + key.length] !== '=' || text[i + key.length + 1] !== '"') {
      throw new MetricsParseError(`line ${lineNo}: malformed label set`);
    }
    i += key.length + 2;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new MetricsParseError(`line ${lineNo}: unterminated label value`);
      i++;
      if (c === '"') break;
      if (c === '\\') {
        const e = text[i++];
        value += e === 'n' ? '\n' : (e ?? '');
      } else {
        value += c;
      }
    }
    labels[key] = value;
  }
}

export function parseSampleValue(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (text === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}
