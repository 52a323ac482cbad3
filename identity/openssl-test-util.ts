// Test helper: run the system openssl, an independent X.509 implementation, on our output.
import { spawnSync } from 'node:child_process';

export const OPENSSL = '/usr/bin/openssl';

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function openssl(args: string[], cwd?: string): RunResult {
  const r = spawnSync(OPENSSL, args, { cwd, encoding: 'utf8' });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `openssl verify -CAfile <anchor> -untrusted <issuer> <leaf>`, throwing with openssl's output on failure. */
export function assertOpensslVerifies(dir: string, anchor: string, issuer: string, leaf: string, extra: string[] = []): void {
  const r = openssl(['verify', ...extra, '-CAfile', anchor, '-untrusted', issuer, leaf], dir);
  if (r.status !== 0) throw new Error(`openssl verify failed (${r.status}): ${r.stdout}${r.stderr}`);
}
