// The proxy identity the gateway (or outbound proxy) presents, behind one interface whatever
// its source: files, a local issuer, or the identity service. Sources that issue certificates
// renew at 70% of the lifetime, clamped to 10 s–24 h, as linkerd2-proxy's identity client does.
import { x509 } from '../identity/x509.ts';
import type { Logger } from '../log/logger.ts';
import { errorMessage } from '../log/logger.ts';

export interface Credentials {
  /** The leaf's first DNS SAN: this workload's identity. */
  identity: string;
  /** Leaf then intermediates, PEM. */
  certChainPem: string;
  keyPem: string;
  trustAnchorsPem: string;
  notAfter: Date;
}

export interface IdentitySource {
  /** Resolves once the first credentials are held; rejects if they cannot be obtained at all. */
  start(): Promise<void>;
  current(): Credentials | undefined;
  /** Called after every renewal or reload. */
  onChange(listener: (c: Credentials) => void): void;
  stop(): void;
}

/** True while `c` is within its validity window: what /ready reports. */
export function isValid(c: Credentials | undefined, now: Date = new Date()): boolean {
  return c !== undefined && c.notAfter.getTime() > now.getTime();
}

/** First DNS (or URI) SAN of a certificate: the Linkerd identity it carries. */
export function leafIdentity(cert: x509.X509Certificate): string | undefined {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  return (names.find((n) => n.type === 'dns') ?? names.find((n) => n.type === 'url'))?.value;
}

/** When to renew a certificate valid from `notBefore` to `notAfter`, as a delay from `now`. */
export function renewDelayMs(notBefore: Date, notAfter: Date, now: Date): number {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  const at = notBefore.getTime() + lifetime * 0.7;
  return Math.min(Math.max(at - now.getTime(), 10_000), 24 * 3600 * 1000);
}

/** A source that obtains credentials itself and renews them on a timer. */
export class RenewingSource implements IdentitySource {
  readonly #issue: () => Promise<{ credentials: Credentials; notBefore: Date }>;
  readonly #log: Logger;
  readonly #listeners: Array<(c: Credentials) => void> = [];
  #current?: Credentials;
  #timer?: NodeJS.Timeout;
  #stopped = false;
  #retryMs = 1000;

  readonly #retryFirst: boolean;
  #firstWaiter?: () => void;

  /** With `retryFirst`, start() keeps retrying (a remote service may come up later) instead of failing. */
  constructor(issue: () => Promise<{ credentials: Credentials; notBefore: Date }>, log: Logger, opts: { retryFirst?: boolean } = {}) {
    this.#issue = issue;
    this.#log = log;
    this.#retryFirst = opts.retryFirst ?? false;
  }

  async start(): Promise<void> {
    if (!this.#retryFirst) return this.#renew(true);
    const first = new Promise<void>((resolve) => (this.#firstWaiter = resolve));
    await this.#renew(false);
    await first;
  }

  current(): Credentials | undefined {
    return this.#current;
  }

  onChange(listener: (c: Credentials) => void): void {
    this.#listeners.push(listener);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #renew(first: boolean): Promise<void> {
    try {
      const { credentials, notBefore } = await this.#issue();
      this.#current = credentials;
      this.#retryMs = 1000;
      const delay = renewDelayMs(notBefore, credentials.notAfter, new Date());
      this.#log.info('identity certified', { identity: credentials.identity, validUntil: credentials.notAfter.toISOString(), renewInMs: delay });
      for (const l of this.#listeners) l(credentials);
      this.#firstWaiter?.();
      this.#firstWaiter = undefined;
      this.#schedule(delay);
    } catch (err) {
      if (first) throw err;
      this.#log.warn('identity renewal failed; retrying', { reason: errorMessage(err), retryInMs: this.#retryMs });
      this.#schedule(this.#retryMs);
      this.#retryMs = Math.min(this.#retryMs * 2, 60_000);
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#renew(false), ms);
    this.#timer.unref();
  }
}

export function derToPem(der: Uint8Array): string {
  return new x509.X509Certificate(der).toString('pem') + '\n';
}
