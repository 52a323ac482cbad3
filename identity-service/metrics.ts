// The identity service's Prometheus metrics, in a registry of its own (never prom-client's
// global one), so each process and each test owns exactly the series it created.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { REFUSAL_REASONS, type RefusalReason } from './refusals.ts';

export class IdentityMetrics {
  readonly registry = new Registry();
  readonly issued = new Counter({
    name: 'identity_certificates_issued_total',
    help: 'Workload certificates issued by Certify',
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'identity_certify_refusals_total',
    help: 'Certify requests refused, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly issuerExpiry = new Gauge({
    name: 'identity_issuer_expiry_timestamp_seconds',
    help: 'When the current identity issuer (or the earliest certificate of its chain) expires, in Unix seconds',
    registers: [this.registry],
  });
  readonly issuerReloads = new Counter({
    name: 'identity_issuer_reloads_total',
    help: 'Changes of the issuer files, by result (applied, or rejected and the previous issuer kept)',
    labelNames: ['result'],
    registers: [this.registry],
  });

  constructor(opts: { processMetrics: boolean }) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
    // Zero series up front, so a dashboard's rate() sees the first refusal of each kind.
    for (const reason of REFUSAL_REASONS) this.refusals.inc({ reason }, 0);
    for (const result of ['applied', 'rejected']) this.issuerReloads.inc({ result }, 0);
  }

  refused(reason: RefusalReason): void {
    this.refusals.inc({ reason });
  }

  setIssuerExpiry(expiresAt: Date): void {
    this.issuerExpiry.set(expiresAt.getTime() / 1000);
  }
}
