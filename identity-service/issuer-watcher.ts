// The identity issuer, loaded from its PEM files and reloaded when they change. A Secret
// volume replaces files by swapping a symlink, so the parent directories are watched (not the
// files), with a slow poll as a safety net. A bad new issuer never replaces a good one: the
// service keeps signing with the old issuer and logs why the new files were refused.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { loadSigningCa, type SigningCa } from '../identity/signing-ca.ts';
import type { x509 } from '../identity/x509.ts';
import { errorMessage, type Logger } from '../log/logger.ts';
import { checkIssuerTrusted } from './issuer-trust.ts';

export interface IssuerFiles {
  certFile: string;
  keyFile: string;
}

/** An issuer file could not be read. */
export class IssuerFileError extends Error {
  override readonly name = 'IssuerFileError';
}

export interface IssuerWatcherOptions {
  files: IssuerFiles;
  anchors: readonly x509.X509Certificate[];
  log: Logger;
}

/** What happens to changed issuer files. */
export interface IssuerListener {
  /** The new issuer is in use. */
  applied(issuer: SigningCa): Promise<void>;
  /** The new files were refused; the old issuer stays. */
  rejected(err: unknown): void;
}

const DEBOUNCE_MS = 200;
const POLL_MS = 10_000;

/** Reads and validates the issuer: readable, a P-256 CA with its key, unexpired, chaining to the anchors. */
export async function loadIssuer(files: IssuerFiles, anchors: readonly x509.X509Certificate[]): Promise<{ ca: SigningCa; contents: string }> {
  const [certPem, keyPem] = await Promise.all([readIssuerFile(files.certFile, '--issuer-cert'), readIssuerFile(files.keyFile, '--issuer-key')]);
  const ca = await loadSigningCa(certPem, keyPem, 'identity issuer');
  checkIssuerTrusted(ca, anchors);
  return { ca, contents: certPem + '\0' + keyPem };
}

export class IssuerWatcher {
  #current: SigningCa;
  /** The file contents last tried, so an unchanged (good or bad) pair is not reloaded or re-reported. */
  #lastContents: string;
  readonly #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #reloading: Promise<void> = Promise.resolve();
  #listener: IssuerListener | undefined;

  private constructor(
    private readonly opts: IssuerWatcherOptions,
    initial: { ca: SigningCa; contents: string },
  ) {
    this.#current = initial.ca;
    this.#lastContents = initial.contents;
  }

  /** Loads the issuer, throwing if it is unusable; `watch` starts following its files. */
  static async load(opts: IssuerWatcherOptions): Promise<IssuerWatcher> {
    return new IssuerWatcher(opts, await loadIssuer(opts.files, opts.anchors));
  }

  get current(): SigningCa {
    return this.#current;
  }

  /** Re-reads the files now (the watchers call this too); resolves once the reload is done. */
  reload(): Promise<void> {
    this.#reloading = this.#reloading.then(() => this.#reloadOnce());
    return this.#reloading;
  }

  close(): void {
    for (const w of this.#watchers) w.close();
    clearTimeout(this.#timer);
    clearInterval(this.#poll);
  }

  watch(listener: IssuerListener): void {
    this.#listener = listener;
    const dirs = new Set([dirname(this.opts.files.certFile), dirname(this.opts.files.keyFile)]);
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, () => this.#debounce());
        w.on('error', (err) => this.opts.log.warn('issuer directory watch failed; polling only', { dir, error: errorMessage(err) }));
        this.#watchers.push(w);
      } catch (err) {
        this.opts.log.warn('cannot watch the issuer directory; polling only', { dir, error: errorMessage(err) });
      }
    }
    this.#poll = setInterval(() => void this.reload(), POLL_MS);
    this.#poll.unref();
  }

  // Writers replace the certificate and the key in two steps; wait for both before reading.
  #debounce(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload(), DEBOUNCE_MS);
    this.#timer.unref();
  }

  async #reloadOnce(): Promise<void> {
    const { log, files } = this.opts;
    let contents: string;
    try {
      contents = (await readIssuerFile(files.certFile, '--issuer-cert')) + '\0' + (await readIssuerFile(files.keyFile, '--issuer-key'));
    } catch (err) {
      log.warn('cannot read the issuer files; still signing with the previous issuer', { error: errorMessage(err) });
      return;
    }
    if (contents === this.#lastContents) return;
    this.#lastContents = contents;
    let next: SigningCa;
    try {
      next = (await loadIssuer(files, this.opts.anchors)).ca;
    } catch (err) {
      log.warn('refused the changed issuer files; still signing with the previous issuer', {
        reason: errorMessage(err),
        issuer: this.#current.bundle.cert.subject,
      });
      this.#listener?.rejected(err);
      return;
    }
    this.#current = next;
    log.info('identity issuer reloaded', { issuer: next.bundle.cert.subject, expiresAt: next.expiresAt.toISOString() });
    try {
      await this.#listener?.applied(next);
    } catch (err) {
      log.error('applying the reloaded issuer failed', { error: errorMessage(err) });
    }
  }
}

async function readIssuerFile(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'error';
    throw new IssuerFileError(`cannot read ${flag} file "${path}" (${code}): check the path and its permissions`, { cause: err });
  }
}
