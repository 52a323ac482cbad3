// One place where link/'s commands map library errors to what the CLI prints: input problems
// become usage errors (exit 2), anything else keeps only its first line (exit 1).
import { UsageError } from '../cli/usage-error.ts';
import { PemFileError } from '../identity/pem-files.ts';
import { InvalidSelectorError } from '../model/label-selector.ts';
import { LinkInputError } from './errors.ts';
import { InvalidValueError } from './install.ts';
import { UnsupportedFormatError } from './manifest.ts';

export async function runAction(fn: () => Promise<void> | void): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (
      err instanceof LinkInputError ||
      err instanceof PemFileError ||
      err instanceof InvalidValueError ||
      err instanceof InvalidSelectorError ||
      err instanceof UnsupportedFormatError
    ) {
      throw new UsageError(err.message);
    }
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(msg.split('\n')[0] ?? msg);
  }
}
