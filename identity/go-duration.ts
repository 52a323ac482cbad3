// Go `time.ParseDuration` syntax, so lifetimes read the same as in Linkerd's Helm values
// (`issuanceLifetime: 24h0m0s`, `clockSkewAllowance: 20s`) and step's `--not-after 8760h`.

export class InvalidDurationError extends Error {
  override readonly name = 'InvalidDurationError';
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = String.raw`(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)`;

/** Parses e.g. `24h`, `20s`, `1h30m`, `1.5h`, `0` into milliseconds; negative durations are refused. */
export function parseGoDuration(text: string): number {
  const fail = (why: string): never => {
    throw new InvalidDurationError(
      `invalid duration "${text}": ${why}; write a number with a unit such as 24h, 90m, 20s or 1h30m`,
    );
  };
  if (text === '0') return 0;
  if (text.startsWith('-')) return fail('it is negative');
  const body = text.startsWith('+') ? text.slice(1) : text;
  if (body.length === 0) return fail('it is empty');
  const part = new RegExp(PART, 'y');
  let total = 0;
  while (part.lastIndex < body.length) {
    const start = part.lastIndex;
    const m = part.exec(body);
    if (m === null) {
      return fail(`cannot read "${body.slice(start)}" (units are ns, us, ms, s, m, h)`);
    }
    const [, amount, unit] = m;
    total += Number(amount) * (UNIT_MS[unit ?? ''] ?? NaN);
  }
  if (!Number.isFinite(total)) return fail('it is too large');
  return Math.round(total);
}
