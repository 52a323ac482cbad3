// The sequence of Update messages that takes a stream from one DesiredSet to the next: the
// whole set once, then only what changed. An address whose metadata changed is added again
// (the proxy replaces an address it already has); one that left is removed.
import { addrKey, type DesiredSet, type Endpoint, type TcpAddr, type Update } from './types.ts';

/** What a stream has been told about one address: its group's labels and a digest of the endpoint. */
export interface SentAddr {
  readonly addr: TcpAddr;
  readonly labels: string;
  readonly digest: string;
}

/** What a stream has been told: address key → what it was told about the address. */
export interface SentState {
  readonly exists: boolean;
  readonly addrs: ReadonlyMap<string, SentAddr>;
}

export const EMPTY_STATE: SentState = { exists: false, addrs: new Map() };

interface Entry extends SentAddr {
  readonly key: string;
  readonly group: number;
  readonly endpoint: Endpoint;
}

/** Every address once; one listed by two groups belongs to the last. */
function entriesOf(set: DesiredSet): Map<string, Entry> {
  const out = new Map<string, Entry>();
  set.groups.forEach((g, group) => {
    const labels = JSON.stringify(sortedEntries(g.setLabels));
    for (const endpoint of g.endpoints) {
      const key = addrKey(endpoint);
      out.delete(key);
      out.set(key, { key, group, endpoint, addr: endpoint, labels, digest: endpointDigest(endpoint) });
    }
  });
  return out;
}

function stateFrom(entries: ReadonlyMap<string, Entry>, exists: boolean): SentState {
  return { exists, addrs: entries };
}

export function stateOf(set: DesiredSet): SentState {
  return stateFrom(entriesOf(set), set.exists);
}

/** The first messages of a stream: every address, or no_endpoints when there is none. */
export function snapshotUpdates(set: DesiredSet): Update[] {
  if (!set.exists) return [{ kind: 'no-endpoints', exists: false }];
  const adds = addsFor(set, entriesOf(set), () => true);
  return adds.length > 0 ? adds : [{ kind: 'no-endpoints', exists: true }];
}

/** The messages that take a stream from `prev` (what it was told) to `next`. */
export function diffUpdates(prev: SentState, next: DesiredSet): { updates: Update[]; state: SentState } {
  const entries = entriesOf(next);
  const state = stateFrom(entries, next.exists);
  if (!next.exists) return { updates: prev.exists ? [{ kind: 'no-endpoints', exists: false }] : [], state };
  if (!prev.exists) return { updates: snapshotUpdates(next), state };
  const removed: TcpAddr[] = [];
  for (const [key, old] of prev.addrs) if (!entries.has(key)) removed.push({ ip: old.addr.ip, port: old.addr.port });
  const updates: Update[] = removed.length > 0 ? [{ kind: 'remove', addrs: removed }] : [];
  updates.push(
    ...addsFor(next, entries, (e) => {
      const old = prev.addrs.get(e.key);
      return old === undefined || old.digest !== e.digest || old.labels !== e.labels;
    }),
  );
  return { updates, state };
}

/** One add per group (its set labels differ), in group order, of the entries `pick` selects. */
function addsFor(set: DesiredSet, entries: ReadonlyMap<string, Entry>, pick: (e: Entry) => boolean): Update[] {
  const byGroup = new Map<number, Endpoint[]>();
  for (const e of entries.values()) {
    if (!pick(e)) continue;
    let list = byGroup.get(e.group);
    if (!list) byGroup.set(e.group, (list = []));
    list.push(e.endpoint);
  }
  const out: Update[] = [];
  set.groups.forEach((g, i) => {
    const endpoints = byGroup.get(i);
    if (endpoints) out.push({ kind: 'add', setLabels: g.setLabels, endpoints });
  });
  return out;
}

/** Endpoints are immutable and, through translate.ts's slice cache, reused while unchanged. */
const digests = new WeakMap<Endpoint, string>();

function endpointDigest(e: Endpoint): string {
  let d = digests.get(e);
  if (d === undefined) digests.set(e, (d = computeDigest(e)));
  return d;
}

function computeDigest(e: Endpoint): string {
  return JSON.stringify([
    e.weight,
    sortedEntries(e.labels),
    e.identity?.name ?? null,
    e.identity?.serverName ?? null,
    e.hint?.kind ?? null,
    e.hint?.kind === 'opaque' ? (e.hint.inboundPort ?? null) : null,
    e.authorityOverride ?? null,
    e.http2,
  ]);
}

function sortedEntries(r: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
