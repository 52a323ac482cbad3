// Identity from files (a mounted Secret): cert (leaf, optionally followed by its chain), key,
// trust anchors. Polled rather than fs.watch'ed, because Kubernetes swaps a Secret volume's
// files by renaming a symlinked directory, which inotify on the old files never reports.
import { readFileSync, statSync, unwatchFile, watchFile } from 'node:fs';
import { loadCertBundle, parseCertificates } from '../identity/x509.ts';
import { errorMessage, type Logger } from '../log/logger.ts';
import { GatewayError } from './errors.ts';
import { type Credentials, type IdentitySource, leafIdentity } from './identity-source.ts';

export class IdentityFilesError extends GatewayError {
  override readonly name = 'IdentityFilesError';
}

export interface FileIdentityOptions {
  certFile: string;
  keyFile: string;
  trustAnchorsFile: string;
  log: Logger;
  pollMs?: number;
}

export async function loadCredentialFiles(o: Pick<FileIdentityOptions, 'certFile' | 'keyFile' | 'trustAnchorsFile'>): Promise<Credentials> {
  const read = (path: string, flag: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new IdentityFilesError(`cannot read ${flag} "${path}": check the path and its permissions`, { cause: err });
    }
  };
  const certChainPem = read(o.certFile, '--cert');
  const keyPem = read(o.keyFile, '--key');
  const trustAnchorsPem = read(o.trustAnchorsFile, '--trust-anchors');
  parseCertificates(trustAnchorsPem);
  const bundle = await loadCertBundle(certChainPem, keyPem);
  const identity = leafIdentity(bundle.cert);
  if (identity === undefined) throw new IdentityFilesError(`the certificate in "${o.certFile}" has no DNS SAN, so it names no identity`);
  return { identity, certChainPem, keyPem, trustAnchorsPem, notAfter: bundle.cert.notAfter };
}

export class FileIdentitySource implements IdentitySource {
  readonly #o: FileIdentityOptions;
  readonly #listeners: Array<(c: Credentials) => void> = [];
  #current?: Credentials;
  #reloading = false;

  constructor(o: FileIdentityOptions) {
    this.#o = o;
  }

  async start(): Promise<void> {
    this.#current = await loadCredentialFiles(this.#o);
    for (const f of this.#files()) watchFile(f, { interval: this.#o.pollMs ?? 2000, persistent: false }, () => void this.#reload());
  }

  current(): Credentials | undefined {
    return this.#current;
  }

  onChange(listener: (c: Credentials) => void): void {
    this.#listeners.push(listener);
  }

  stop(): void {
    for (const f of this.#files()) unwatchFile(f);
  }

  #files(): string[] {
    return [this.#o.certFile, this.#o.keyFile, this.#o.trustAnchorsFile];
  }

  async #reload(): Promise<void> {
    if (this.#reloading) return;
    this.#reloading = true;
    try {
      // A writer replaces the files one by one; a half-written set fails to load and is retried next poll.
      for (const f of this.#files()) statSync(f);
      const next = await loadCredentialFiles(this.#o);
      this.#current = next;
      this.#o.log.info('identity files reloaded', { identity: next.identity, validUntil: next.notAfter.toISOString() });
      for (const l of this.#listeners) l(next);
    } catch (err) {
      this.#o.log.warn('identity files changed but cannot be loaded; keeping the previous identity', { reason: errorMessage(err) });
    } finally {
      this.#reloading = false;
    }
  }
}
