// What becomes of each reconcile: metrics always; a log line, a Link status entry and a
// Kubernetes Event when a key fails. A key that keeps failing is retried at the queue's
// capped backoff and reported once it has failed REPORT_AFTER_ATTEMPTS times in a row, so it
// is never dropped silently.
import type { InvolvedObject } from '../kube/event-recorder.ts';
import { errorMessage, type Logger } from '../log/logger.ts';
import { federatedServiceName } from '../model/mirror-naming.ts';
import { mirrorName, type RemoteRef } from '../model/remote-service.ts';
import { NameCollisionError, type PermanentError } from './errors.ts';
import { assertNever, type MirrorEvent } from './events.ts';
import type { MirrorMetrics } from './metrics.ts';
import type { MirrorSettings } from './mirror-objects.ts';
import type { StatusSink } from './reconcile-context.ts';
import type { Outcome } from './work-queue.ts';

/** After this many failed attempts in a row a key is reported in the Link status and as an Event. */
export const REPORT_AFTER_ATTEMPTS = 3;

export interface EventSink {
  record(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export interface OutcomeReporterOptions {
  settings: MirrorSettings;
  /** The Link, as the Events' involved object. */
  link: InvolvedObject;
  status: StatusSink;
  events: EventSink;
  metrics: MirrorMetrics;
  log: Logger;
  collisions: Map<string, RemoteRef>;
}

export class OutcomeReporter {
  readonly #o: OutcomeReporterOptions;
  readonly #labels: { target_cluster_name: string };

  constructor(o: OutcomeReporterOptions) {
    this.#o = o;
    this.#labels = { target_cluster_name: o.settings.clusterName };
  }

  report(e: MirrorEvent, key: string, outcome: Outcome, ms: number): void {
    this.#o.metrics.reconcileDuration.observe({ ...this.#labels, outcome: outcome.kind }, ms / 1000);
    switch (outcome.kind) {
      case 'done':
        return;
      case 'retry':
      case 'crashed': {
        const bug = outcome.kind === 'crashed';
        this.#o.metrics.errors.inc({ ...this.#labels, reason: bug ? 'Bug' : 'Retryable' });
        const message = errorMessage(outcome.error);
        const fields = { object: key, reason: message, attempt: outcome.attempt, delay_ms: Math.round(outcome.delayMs) };
        if (bug) this.#o.log.error('reconcile crashed; will retry', fields);
        else this.#o.log.warn('reconcile failed; will retry', fields);
        if (outcome.attempt >= REPORT_AFTER_ATTEMPTS) this.#reportFailing(e, `still retrying (attempt ${outcome.attempt}): ${message}`);
        return;
      }
      case 'failed':
        this.#reportPermanent(e, key, outcome.error);
        return;
      default:
        assertNever(outcome);
    }
  }

  /** A retried failure: the status entry says so; the Event is written once a minute at most (EventRecorder folds repeats). */
  #reportFailing(e: MirrorEvent, message: string): void {
    if (e.kind === 'ServiceChanged') {
      this.#o.status.setMirror(e, { namespace: e.namespace, name: mirrorName(e, this.#o.settings) }, 'Error', message);
    } else if (e.kind === 'FederatedChanged') {
      this.#o.status.setMirror(e, { namespace: e.namespace, name: federatedServiceName(e.name) }, 'Error', message, 'federatedServices');
    }
    this.#event('ReconcileFailing', `${describe(e)}: ${message}`);
  }

  #reportPermanent(e: MirrorEvent, key: string, error: PermanentError): void {
    this.#o.metrics.errors.inc({ ...this.#labels, reason: error.reason });
    // Repair passes re-check skipped Services; say it loudly only when something changed.
    const prev = e.kind === 'ServiceChanged' ? this.#o.status.mirrorCondition(e) : undefined;
    const repeated = prev?.reason === error.reason && prev.message === error.message;
    const fields = { object: key, reason: error.reason, error: error.message };
    if (repeated) this.#o.log.debug('mirror skipped', fields);
    else this.#o.log.warn('mirror skipped', fields);
    if (e.kind === 'FederatedChanged') {
      this.#o.status.setMirror(e, { namespace: e.namespace, name: federatedServiceName(e.name) }, error.reason, error.message, 'federatedServices');
    } else if (e.kind === 'ServiceChanged') {
      const local = mirrorName(e, this.#o.settings);
      if (error instanceof NameCollisionError) this.#o.collisions.set(`${e.namespace}/${local}`, { namespace: e.namespace, name: e.name });
      this.#o.status.setMirror(e, { namespace: e.namespace, name: local }, error.reason, error.message);
    }
    this.#event('ServiceMirroringSkipped', `${describe(e)}: ${error.message}`);
  }

  #event(reason: string, message: string): void {
    void this.#o.events.record(this.#o.link, 'Warning', reason, message);
  }
}

function describe(e: MirrorEvent): string {
  switch (e.kind) {
    case 'ServiceChanged':
    case 'FederatedChanged':
      return `${e.namespace}/${e.name}`;
    case 'NamespaceCreated':
      return `namespace ${e.namespace}`;
    case 'GatewayChanged':
      return 'gateway repair';
    case 'OrphanSweep':
      return 'orphan sweep';
    default:
      return assertNever(e);
  }
}
