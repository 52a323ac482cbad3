// Which remote Services a Link exports, and the server-side label selector that fetches
// only those (upstream watches every Service in the remote cluster and filters locally).
import type { V1Service } from '@kubernetes/client-node';
import { isEmptySelector, selectorMatches, selectorToQuery } from './label-selector.ts';
import type { LabelSelector } from './link-types.ts';
import type { MirrorMode } from './remote-service.ts';

export interface ExportSelectors {
  gateway?: LabelSelector;
  remoteDiscovery?: LabelSelector;
  /** Members of `<svc>-federated`; watched separately (a different label key, as a rule). */
  federated?: LabelSelector;
}

export function exportModeOf(svc: V1Service, sel: ExportSelectors, hasGateway: boolean): MirrorMode | undefined {
  const labels = svc.metadata?.labels;
  if (!isEmptySelector(sel.remoteDiscovery) && selectorMatches(sel.remoteDiscovery, labels)) return 'remote-discovery';
  if (hasGateway && !isEmptySelector(sel.gateway) && selectorMatches(sel.gateway, labels)) return 'gateway';
  return undefined;
}

/**
 * The narrowest selector the API server can apply for us: the one non-empty selector, or,
 * for the common pair `k=a` / `k=b`, `k in (a,b)`. `null` means nothing is exported at
 * all; `undefined` means no server-side filter can express the union (filter locally).
 */
export function serverSideSelector(sel: ExportSelectors): string | null | undefined {
  const active = [sel.gateway, sel.remoteDiscovery].filter((s): s is LabelSelector => !isEmptySelector(s));
  if (active.length === 0) return null;
  if (active.length === 1) return selectorToQuery(active[0]) ?? undefined;
  const singles = active.map((s) => (s.matchExpressions?.length ? undefined : Object.entries(s.matchLabels ?? {})));
  if (singles.every((e) => e?.length === 1)) {
    const keys = new Set(singles.map((e) => e?.[0]?.[0]));
    if (keys.size === 1) {
      const [key] = keys;
      const values = [...new Set(singles.map((e) => e?.[0]?.[1] ?? ''))].sort();
      return `${key} in (${values.join(',')})`;
    }
  }
  return undefined;
}
