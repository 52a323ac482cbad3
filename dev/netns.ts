// Thin wrappers over iproute2 for the pod networks. Everything the harness creates is
// named with its pair prefix, so stale state from a crashed run can be found and removed.
import { readdir } from 'node:fs/promises';
import { run } from './exec.ts';

export async function ip(args: readonly string[], allowFailure = false): Promise<string> {
  return run('ip', args, { allowFailure });
}

export async function addNetns(name: string): Promise<void> {
  await ip(['netns', 'add', name]);
  await ip(['-n', name, 'link', 'set', 'lo', 'up']);
}

export async function deleteNetns(name: string): Promise<void> {
  await ip(['netns', 'delete', name], true);
}

export async function listNetns(prefix: string): Promise<string[]> {
  const names = await readdir('/run/netns').catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(prefix));
}

/** Deletes root-namespace links whose names start with `prefix` (their veth peers go too). */
export async function deleteLinks(prefix: string): Promise<void> {
  const out = await ip(['-o', 'link', 'show'], true);
  for (const line of out.split('\n')) {
    const m = /^\d+:\s+([^:@]+)[@:]/.exec(line);
    const name = m?.[1];
    if (name && name.startsWith(prefix)) await ip(['link', 'delete', name], true);
  }
}

export async function sysctl(netns: string, key: string, value: string): Promise<void> {
  await run('ip', ['netns', 'exec', netns, 'sysctl', '-q', '-w', `${key}=${value}`]);
}
