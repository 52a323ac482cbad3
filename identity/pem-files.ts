// Reading PEM inputs and writing PEM outputs for `multicluster certs`. Outputs are all
// staged before any is put in place, so a failure never leaves a half-written set (a
// certificate without its key, or a new key beside an old certificate).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PkiError } from './x509.ts';

export class PemFileError extends PkiError {
  override readonly name = 'PemFileError';
}

export interface OutputFile {
  name: string;
  contents: string;
  /** Private keys are written mode 0600. */
  secret: boolean;
}

/** Reads an input named by a flag, saying which flag and why when it cannot. */
export function readInputFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'error';
    throw new PemFileError(`cannot read ${flag} file "${path}" (${code}): check the path and its permissions`, {
      cause: err,
    });
  }
}

/** Writes every file into `dir` (created if missing), refusing to replace existing ones unless `force`. */
export function writeOutputFiles(dir: string, files: OutputFile[], force: boolean): string[] {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new PemFileError(`cannot create output directory "${dir}": choose a writable --out directory`, {
      cause: err,
    });
  }
  if (!force) {
    const existing = files.map((f) => join(dir, f.name)).filter(exists);
    if (existing.length > 0) {
      throw new PemFileError(`refusing to overwrite ${existing.join(', ')}: choose another --out directory or pass --force`);
    }
  }
  const suffix = `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const staged: Array<{ tmp: string; final: string }> = [];
  try {
    for (const f of files) {
      const final = join(dir, f.name);
      const tmp = join(dir, `.${f.name}${suffix}`);
      writeFileSync(tmp, f.contents, { mode: f.secret ? 0o600 : 0o644, flag: 'wx' });
      staged.push({ tmp, final });
    }
    for (const { tmp, final } of staged) renameSync(tmp, final);
  } catch (err) {
    for (const { tmp } of staged) rmSync(tmp, { force: true });
    throw new PemFileError(`cannot write to "${dir}": choose a writable --out directory`, { cause: err });
  }
  return staged.map((s) => s.final);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
