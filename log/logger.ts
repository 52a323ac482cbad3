// Structured logging: one JSON object per line on stderr, so stdout stays free for
// command output (YAML, tables) that users pipe into kubectl.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Context fields that identify what a line is about: link, cluster, object, reason. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose every line carries `fields` as well. */
  with(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  now?: () => Date;
}

export function parseLogLevel(value: string): LogLevel {
  if (value === 'debug' || value === 'info' || value === 'warn' || value === 'error') return value;
  throw new Error(`invalid log level "${value}": use one of debug, info, warn, error`);
}

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = LEVEL_ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVEL_ORDER[level] < min) return;
    const record: Record<string, unknown> = { ts: now().toISOString(), level, msg };
    for (const [k, v] of Object.entries({ ...base, ...fields })) {
      if (v !== undefined) record[k] = v;
    }
    write(JSON.stringify(record));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    with: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** Formats an unknown thrown value for a log field without losing the cause chain. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause === undefined ? '' : `: ${errorMessage(err.cause)}`;
    return `${err.message}${cause}`;
  }
  return String(err);
}
