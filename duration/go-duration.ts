// Go `time.ParseDuration` syntax ("30s", "1m30s", "500ms", "24h0m0s"), the format of Link probe
// fields on the wire, of Linkerd's Helm values (`issuanceLifetime: 24h0m0s`) and of step's
// `--not-after 8760h`. Values are milliseconds, kept to Go's nanosecond precision.

export class InvalidDurationError extends Error {
  override readonly name = 'InvalidDurationError';
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  '\u00b5s': 1e-3, // micro sign
  '\u03bcs': 1e-3, // Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

// Escapes, not the characters: one non-Latin-1 character in the CLI bundle makes V8 keep its
// whole source as UTF-16, twice the memory.
const PART = String.raw`(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)`;

/**
 * Parses e.g. `24h`, `20s`, `1h30m`, `1.5h`, `0` into milliseconds. Negative durations are
 * refused; anything else Go refuses throws InvalidDurationError naming what could not be read.
 */
export function parseGoDuration(text: string): number {
  const fail = (why: string): never => {
    throw new InvalidDurationError(`invalid duration "${text}": ${why}; write a number with a unit such as 24h, 90m, 20s or 1h30m`);
  };
  if (text.startsWith('-')) return fail('it is negative');
  const body = text.startsWith('+') ? text.slice(1) : text;
  if (body === '0') return 0;
  if (body.length === 0) return fail('it is empty');
  const part = new RegExp(PART, 'y');
  let total = 0;
  while (part.lastIndex < body.length) {
    const start = part.lastIndex;
    const m = part.exec(body);
    if (m === null) return fail(`cannot read "${body.slice(start)}" (units are ns, us, ms, s, m, h)`);
    const [, amount, unit] = m;
    total += Number(amount) * (UNIT_MS[unit ?? ''] ?? NaN);
  }
  if (!Number.isFinite(total)) return fail('it is too large');
  // Whole nanoseconds, as Go keeps them; this also drops float noise such as 1.1h.
  return Math.round(total * 1e6) / 1e6;
}

/** parseGoDuration, or undefined where it would throw. */
export function tryParseGoDuration(text: string): number | undefined {
  try {
    return parseGoDuration(text);
  } catch (err) {
    if (err instanceof InvalidDurationError) return undefined;
    throw err;
  }
}

/** Formats whole milliseconds the way Go's `time.Duration.String()` does for common values. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  let rest = ms / 1000;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  const s = `${Number(rest.toFixed(3))}s`;
  if (h > 0) return `${h}h${m}m${s}`;
  if (m > 0) return `${m}m${s}`;
  return s;
}
