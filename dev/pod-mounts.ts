// The shell prologue that gives a container its volumes. It runs under `unshare --mount`
// inside the pod's network namespace, so every mount is private to the container and
// vanishes with it. Volume contents live in host directories (so a refreshed token or an
// emptyDir survives restarts) and are bind-mounted at the volumeMount paths:
// - first all sources are bind-mounted into a private tmpfs (`scratch`) and the script moves
//   into it: a mount over /tmp (an emptyDir) must not hide a source under /tmp;
// - a mount path that does not exist on the host (/var/run/secrets/...) gets an overlay with
//   a tmpfs upper layer on its nearest existing ancestor, so the directory is created for the
//   container only and the host filesystem is never written.
import { dirname, posix } from 'node:path';
import { NotRunnableError } from './container-spec.ts';

export interface VolumeMountPlan {
  /** Absolute path in the container. */
  target: string;
  /** Host directory holding the volume's files. */
  source: string;
  readOnly: boolean;
  /** emptyDir: directories for deeper mounts may be created inside it. */
  writable: boolean;
  /** A single file (resolv.conf) rather than a directory. */
  file?: boolean;
}

export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function isUnder(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/**
 * The script for `sh -c SCRIPT sh ARGV...`: it mounts, sets the hostname, and execs ARGV.
 * `exists` tells whether a path exists on the host (the mount namespace starts as its copy).
 */
export function mountScript(opts: {
  mounts: readonly VolumeMountPlan[];
  scratch: string;
  hostname: string;
  workingDir?: string;
  exists: (path: string) => boolean;
  /** Host paths the container must still see at the same place (the checkout it runs from). */
  keepVisible?: readonly string[];
}): string {
  const mounts = [...opts.mounts]
    .map((m) => ({ ...m, target: posix.normalize(m.target).replace(/(.)\/$/, '$1') }))
    .sort((a, b) => a.target.split('/').length - b.target.split('/').length || a.target.localeCompare(b.target));
  const overlays: string[] = [];
  for (const [i, m] of mounts.entries()) {
    if (!posix.isAbsolute(m.target)) throw new NotRunnableError(`mountPath "${m.target}" is not absolute`);
    if (m.target === '/') throw new NotRunnableError('a volume cannot be mounted at /');
    const parent = mounts.slice(0, i).findLast((p) => isUnder(m.target, p.target));
    if (parent) {
      if (!parent.writable && !opts.exists(m.target)) {
        throw new NotRunnableError(`mountPath "${m.target}" lies inside the read-only volume at "${parent.target}"`);
      }
      continue;
    }
    if (opts.exists(m.target) || overlays.some((o) => isUnder(m.target, o))) continue;
    let anchor = dirname(m.target);
    while (anchor !== '/' && !opts.exists(anchor)) anchor = dirname(anchor);
    if (anchor === '/') throw new NotRunnableError(`mountPath "${m.target}": its top-level directory does not exist on the dev host`);
    // An overlay hides the mounts beneath it, so it must come before them.
    for (let j = overlays.length - 1; j >= 0; j--) if (isUnder(overlays[j] ?? '', anchor)) overlays.splice(j, 1);
    overlays.push(anchor);
  }
  const q = shellQuote;
  const lines = ['set -e', `hostname ${q(opts.hostname)}`];
  if (mounts.length > 0) {
    lines.push(`mount -t tmpfs -o mode=0700,size=1m tmpfs ${q(opts.scratch)}`, `cd ${q(opts.scratch)}`);
    for (const [i, m] of mounts.entries()) lines.push(m.file ? `touch v${i}` : `mkdir v${i}`, `mount --bind ${q(m.source)} v${i}`);
    // Paths relative to the scratch directory from here on: it may be hidden by what follows.
    for (const [i, o] of overlays.entries()) {
      lines.push(`mkdir o${i} w${i}`, `mount -t overlay overlay -o lowerdir=${q(o)},upperdir=o${i},workdir=w${i} ${q(o)}`);
    }
    // A volume over an ancestor of the checkout (an emptyDir at /tmp, with the checkout under /tmp)
    // would hide the binary the container runs: bind it back at its own path on top.
    const hidden = (opts.keepVisible ?? []).filter((k) => mounts.some((m) => isUnder(k, m.target)));
    for (const [i, k] of hidden.entries()) lines.push(`mkdir k${i}`, `mount --bind ${q(k)} k${i}`);
    for (const [i, m] of mounts.entries()) {
      const create = m.file ? `[ -e ${q(m.target)} ] || { mkdir -p ${q(dirname(m.target))}; touch ${q(m.target)}; }` : `mkdir -p ${q(m.target)}`;
      lines.push(create, `mount --no-canonicalize --bind v${i} ${q(m.target)}`);
      if (m.readOnly) lines.push(`mount -o remount,bind,ro ${q(m.target)}`);
    }
    for (const [i, k] of hidden.entries()) lines.push(`mkdir -p ${q(k)}`, `mount --bind k${i} ${q(k)}`);
  }
  lines.push(`cd ${q(opts.workingDir ?? '/')}`, 'exec "$@"');
  return lines.join('\n');
}
