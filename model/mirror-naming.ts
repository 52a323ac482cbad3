// Names of the local objects a Link owns. Upstream simply concatenates and fails on Create
// when the result exceeds 63 characters; we shorten deterministically instead, keeping the
// `-<cluster>` suffix so the name still tells which Link owns it.
import { createHash } from 'node:crypto';

export const MAX_NAME = 63;
const HASH_LEN = 8;

export function hash8(input: string): string {
  return createHash('sha256').update(input).digest('hex').slice(0, HASH_LEN);
}

/**
 * `<base>-<cluster>`, or, when that is too long, `<base prefix>-<hash>-<cluster>` where the
 * hash covers the full name. The same inputs always give the same name.
 */
export function suffixedName(base: string, cluster: string): string {
  const full = `${base}-${cluster}`;
  if (full.length <= MAX_NAME) return full;
  const suffix = `-${hash8(full)}-${cluster}`;
  const room = MAX_NAME - suffix.length;
  if (room < 1) {
    // The cluster name alone nearly fills a label: fall back to a prefix plus the hash.
    return `${trimDashes(base.slice(0, MAX_NAME - HASH_LEN - 1))}-${hash8(full)}`;
  }
  return `${trimDashes(base.slice(0, room))}${suffix}`;
}

export const mirrorServiceName = (remoteName: string, cluster: string): string => suffixedName(remoteName, cluster);
export const endpointMirrorName = (hostname: string, cluster: string): string => suffixedName(hostname, cluster);
export const federatedServiceName = (remoteName: string): string => suffixedName(remoteName, 'federated');

export function isShortened(remoteName: string, cluster: string): boolean {
  return `${remoteName}-${cluster}`.length > MAX_NAME;
}

function trimDashes(s: string): string {
  return s.replace(/-+$/, '');
}

/** DNS-1123 label: what Kubernetes requires of namespace and Link cluster names. */
export function isDns1123Label(s: string): boolean {
  return s.length > 0 && s.length <= MAX_NAME && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
}
