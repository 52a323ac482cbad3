// The Link's status, written in batches: handlers record outcomes in memory and one merge
// patch per flush carries them all (upstream does a GET plus a PATCH per event). A
// condition's lastTransitionTime moves only when its status or reason actually changes.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { apiErrorMessage, isNotFound, mergePatch } from '../kube/client.ts';
import { LINK_GROUP, LINK_PLURAL, LINK_STORAGE_VERSION, type ConditionStatus, type LinkCondition, type ServiceStatus } from '../model/link-types.ts';
import type { Logger } from '../log/logger.ts';
import { Defaults } from '../model/linkerd-names.ts';
import { Backoff } from '../retry/backoff.ts';

const WRITE_TIMEOUT_MS = 10_000;

/**
 * Share of wall time status writes may take: after a write of d ms the next waits d·(1/share − 1).
 * A 500-entry status costs the API server ~0.4 s of CPU to validate and store; written
 * back to back it would take a core from the mirrors being written at the same time.
 */
const WRITE_DUTY = 0.1;

/**
 * How long a change that only adds, drops or refreshes healthy entries may wait for a write.
 * Failures and Link-wide conditions are written promptly; a bulk sync of thousands of new
 * mirrors would otherwise rewrite the full list every few seconds, each time at that cost.
 */
const HEALTHY_FLUSH_MS = 10_000;

/**
 * Most entries a status list carries. Upstream lists every service, which at a few thousand
 * mirrors pushes the Link past etcd's 1.5 MiB object limit and every status write fails.
 */
export const MAX_STATUS_ENTRIES = 500;

/**
 * What is kept per remote Service until a flush renders it: at 10,000 mirrors the full
 * status shape (five objects and a fresh timestamp string each) was ~0.5 KB apiece.
 */
export interface MirrorEntry {
  reason: MirrorReason;
  message: string;
  /** lastTransitionTime. */
  since: string;
  /** The local object's name (it lives in the remote Service's namespace). */
  local?: string;
}

const failing = (e: MirrorEntry): boolean => e.reason !== 'Mirrored';

/** Failing services first (they are what a reader needs), then healthy ones up to the cap; sorted by key. */
export function bounded(entries: Map<string, MirrorEntry>): Array<[string, MirrorEntry]> {
  const all = [...entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (all.length <= MAX_STATUS_ENTRIES) return all;
  const kept = [...all.filter(([, v]) => failing(v)), ...all.filter(([, v]) => !failing(v))].slice(0, MAX_STATUS_ENTRIES);
  return kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The status list entry upstream writes for one remote Service. */
export function serviceStatus(key: string, e: MirrorEntry): ServiceStatus {
  const slash = key.indexOf('/');
  const namespace = key.slice(0, slash);
  const name = key.slice(slash + 1);
  const condition: LinkCondition = {
    type: 'Mirrored',
    status: failing(e) ? 'False' : 'True',
    reason: e.reason,
    message: e.message,
    lastTransitionTime: e.since,
  };
  if (e.local !== undefined) condition.localRef = { group: '', kind: 'Service', namespace, name: e.local };
  return { controllerName: Defaults.controllerName, remoteRef: { group: '', kind: 'Service', namespace, name }, conditions: [condition] };
}

const MIRROR_REASONS: ReadonlySet<string> = new Set<MirrorReason>(['Mirrored', 'InvalidService', 'Error', 'MissingNamespace', 'NameCollision']);

function entryOf(s: ServiceStatus): MirrorEntry | undefined {
  const c = s.conditions?.find((x) => x.type === 'Mirrored');
  if (!c || !MIRROR_REASONS.has(c.reason)) return undefined;
  const e: MirrorEntry = { reason: c.reason as MirrorReason, message: c.message, since: c.lastTransitionTime };
  if (c.localRef?.name) e.local = c.localRef.name;
  return e;
}

export type StatusList = 'mirrorServices' | 'federatedServices';

export type MirrorReason = 'Mirrored' | 'InvalidService' | 'Error' | 'MissingNamespace' | 'NameCollision';

/** Link-wide conditions (ours; upstream has none): credentials and remote reachability. */
export type LinkConditionType = 'CredentialsValid' | 'RemoteReachable' | 'GatewayAlive' | 'StatusTruncated';

export interface LinkLevelCondition {
  type: LinkConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export class LinkStatusWriter {
  readonly #api: CustomObjectsApi;
  readonly #mirrors = new Map<string, MirrorEntry>();
  readonly #federated = new Map<string, MirrorEntry>();
  /** The last timestamp string: entries written in the same second share it. */
  #lastTimestamp = '';
  readonly #linkConditions = new Map<LinkConditionType, LinkLevelCondition>();
  /** What awaits a write: nothing, a change written promptly, or healthy-only changes (see HEALTHY_FLUSH_MS). */
  #pending: 'none' | 'prompt' | 'deferred' = 'none';
  /** The last body the API server accepted: an identical one is not sent again. */
  #written?: string;
  /** When the next write may start (see WRITE_DUTY). */
  #notBefore = 0;
  #truncatedSince?: string;
  /** Per list, the last healthy key a truncated flush listed; absent when it listed them all. */
  readonly #cutoffs = new Map<StatusList, string | undefined>();
  #timer?: { handle: NodeJS.Timeout; due: number };
  #flushing?: Promise<void>;
  /** Failed writes back off; stop() ends the retries (a final flush is the caller's, under its deadline). */
  readonly #retry = new Backoff({ baseMs: 500, capMs: 30_000 });
  #stopped = false;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
    readonly linkName: string,
    private readonly log: Logger,
    private readonly flushIntervalMs = 250,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.#api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** Seeds from the Link's current status so existing transition times survive a restart. */
  seed(mirrors: ServiceStatus[] | undefined, federated?: ServiceStatus[]): void {
    for (const [list, into] of [
      [mirrors, this.#mirrors],
      [federated, this.#federated],
    ] as const) {
      for (const s of list ?? []) {
        const e = entryOf(s);
        if (e) into.set(`${s.remoteRef.namespace}/${s.remoteRef.name}`, e);
      }
    }
  }

  setMirror(
    remote: { namespace: string; name: string },
    local: { namespace: string; name: string } | undefined,
    reason: MirrorReason,
    message: string,
    list: StatusList = 'mirrorServices',
  ): void {
    const entries = this.#entries(list);
    const key = `${remote.namespace}/${remote.name}`;
    const prev = entries.get(key);
    const changed = !prev || prev.reason !== reason;
    if (!changed && prev.message === message && prev.local === local?.name) return;
    const entry: MirrorEntry = { reason, message, since: changed ? this.#timestamp() : prev.since };
    if (local) entry.local = local.name;
    entries.set(key, entry);
    if (this.#shows(list, key, prev, entry)) this.#markDirty(failing(entry) || (prev !== undefined && failing(prev)));
  }

  /** Drops a remote Service from the status (it is no longer exported). */
  clearMirror(remote: { namespace: string; name: string }, list: StatusList = 'mirrorServices'): void {
    const entries = this.#entries(list);
    const key = `${remote.namespace}/${remote.name}`;
    const prev = entries.get(key);
    if (prev && entries.delete(key) && this.#shows(list, key, prev, undefined)) this.#markDirty(failing(prev));
  }

  /** What is waiting to be written: nothing, a prompt write, or healthy changes only (tests). */
  get pending(): 'none' | 'prompt' | 'deferred' {
    return this.#pending;
  }

  /**
   * Whether a change to `key` can alter what the next flush writes. Past the entry cap, a
   * healthy service sorting after the last one listed cannot: during a bulk sync of 10,000
   * that is nearly every change, and each would otherwise cost a sort of every entry.
   */
  #shows(list: StatusList, key: string, before: MirrorEntry | undefined, after: MirrorEntry | undefined): boolean {
    const cutoff = this.#cutoffs.get(list);
    const entries = this.#entries(list);
    if (cutoff === undefined || entries.size <= MAX_STATUS_ENTRIES) return true;
    return key <= cutoff || (before !== undefined && failing(before)) || (after !== undefined && failing(after));
  }

  mirrorCondition(remote: { namespace: string; name: string }): LinkCondition | undefined {
    const key = `${remote.namespace}/${remote.name}`;
    const e = this.#mirrors.get(key);
    return e && serviceStatus(key, e).conditions?.[0];
  }

  setLinkCondition(type: LinkConditionType, status: ConditionStatus, reason: string, message: string): void {
    const prev = this.#linkConditions.get(type);
    if (prev && prev.status === status && prev.reason === reason && prev.message === message) return;
    const changed = !prev || prev.status !== status || prev.reason !== reason;
    this.#linkConditions.set(type, { type, status, reason, message, lastTransitionTime: changed ? this.#timestamp() : prev.lastTransitionTime });
    this.#markDirty(true);
  }

  linkCondition(type: LinkConditionType): LinkLevelCondition | undefined {
    return this.#linkConditions.get(type);
  }

  async flush(): Promise<void> {
    if (this.#flushing) await this.#flushing;
    if (this.#pending === 'none') return;
    this.#pending = 'none';
    const mirrorServices = this.#render('mirrorServices');
    const federatedServices = this.#render('federatedServices');
    const listed = mirrorServices.length + federatedServices.length;
    const total = this.#mirrors.size + this.#federated.size;
    const conditions = [...this.#linkConditions.values()].sort((a, b) => a.type.localeCompare(b.type));
    if (listed < total) {
      // No running count in the message: it would make every new mirror a new status to write.
      conditions.push({
        type: 'StatusTruncated',
        status: 'True',
        reason: 'TooManyServices',
        message:
          `more than ${MAX_STATUS_ENTRIES} services: ${listed} are listed, every failing one first; ` +
          'count the mirrors with: kubectl get svc -A -l mirror.linkerd.io/cluster-name',
        lastTransitionTime: (this.#truncatedSince ??= this.#timestamp()),
      });
    } else {
      this.#truncatedSince = undefined;
    }
    const body = { status: { mirrorServices, federatedServices, conditions } };
    const text = JSON.stringify(body);
    // Past the entry cap most changes touch services the status does not list.
    if (text === this.#written) return;
    this.log.debug('writing link status', {
      link: this.linkName,
      mirrors: mirrorServices.length,
      federated: federatedServices.length,
      conditions: conditions.map((c) => `${c.type}=${c.status}`).join(','),
    });
    const started = Date.now();
    const patch = this.#api.patchNamespacedCustomObjectStatus(
      { group: LINK_GROUP, version: LINK_STORAGE_VERSION, namespace: this.namespace, plural: LINK_PLURAL, name: this.linkName, body },
      mergePatch,
    );
    // client-node requests carry no timeout; a stuck write must not hold every later one.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`status write got no answer within ${WRITE_TIMEOUT_MS} ms`)), WRITE_TIMEOUT_MS);
    });
    this.#flushing = Promise.race([patch, timeout])
      .finally(() => clearTimeout(timer))
      .then(
        () => {
          this.#written = text;
          this.#retry.reset();
          this.#notBefore = Date.now() + (Date.now() - started) * (1 / WRITE_DUTY - 1);
        },
        (err: unknown) => {
          this.#written = undefined;
          if (!isNotFound(err)) {
            this.#pending = 'prompt';
            const delayMs = Math.round(this.#retry.next());
            if (this.#stopped) {
              this.log.warn('link status write failed', { link: this.linkName, reason: apiErrorMessage(err) });
            } else {
              this.log.warn('link status write failed; will retry', { link: this.linkName, reason: apiErrorMessage(err), delay_ms: delayMs });
              this.#schedule(delayMs);
            }
          }
        },
      )
      .finally(() => (this.#flushing = undefined));
    await this.#flushing;
  }

  /** No more writes of its own; flush() still writes once when called. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer.handle);
    this.#timer = undefined;
  }

  #entries(list: StatusList): Map<string, MirrorEntry> {
    return list === 'mirrorServices' ? this.#mirrors : this.#federated;
  }

  /** The list as written, remembering where a truncated list stopped (see #shows). */
  #render(list: StatusList): ServiceStatus[] {
    const entries = this.#entries(list);
    const kept = bounded(entries);
    let cutoff: string | undefined;
    if (kept.length < entries.size) {
      // Healthy entries are kept in key order, so the last healthy one kept is where they stop.
      cutoff = '';
      for (const [k, e] of kept) if (!failing(e) && k > cutoff) cutoff = k;
    }
    this.#cutoffs.set(list, cutoff);
    return kept.map(([k, e]) => serviceStatus(k, e));
  }

  /** `prompt`: a failure or a Link-wide condition changed; otherwise healthy entries only. */
  #markDirty(prompt: boolean): void {
    if (prompt) this.#pending = 'prompt';
    else if (this.#pending === 'none') this.#pending = 'deferred';
    if (!this.#stopped) this.#schedule(prompt ? this.flushIntervalMs : HEALTHY_FLUSH_MS);
  }

  /** Flushes in `ms` (not before WRITE_DUTY allows), unless a flush is already due sooner. */
  #schedule(ms: number): void {
    const due = Date.now() + Math.max(ms, this.#notBefore - Date.now());
    if (this.#timer && this.#timer.due <= due) return;
    if (this.#timer) clearTimeout(this.#timer.handle);
    const handle = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, due - Date.now());
    this.#timer = { handle, due };
  }

  #timestamp(): string {
    // metav1.Time has second precision; a sub-second value would be truncated on read-back.
    const t = this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
    if (t !== this.#lastTimestamp) this.#lastTimestamp = t;
    return this.#lastTimestamp;
  }
}
