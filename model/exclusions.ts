// Label/annotation exclusion lists from Link.spec.excluded{Labels,Annotations}.
// An entry is an exact key, or a prefix when it ends in `/*`. The prefix keeps its slash:
// upstream strips `/*` and so `evil.linkerd/*` also drops `evil.linkerdX/foo` (weak spot §6.2).

/** Whether `key` is excluded by any entry. */
export function isExcluded(key: string, excluded: readonly string[] | undefined): boolean {
  for (const entry of excluded ?? []) {
    if (entry.endsWith('/*')) {
      if (key.startsWith(entry.slice(0, -1))) return true;
    } else if (key === entry) {
      return true;
    }
  }
  return false;
}

/** A copy of `map` without the excluded keys (undefined stays undefined). */
export function withoutExcluded(
  map: Readonly<Record<string, string>> | undefined,
  excluded: readonly string[] | undefined,
): Record<string, string> | undefined {
  if (map === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) {
    if (!isExcluded(k, excluded)) out[k] = v;
  }
  return out;
}
