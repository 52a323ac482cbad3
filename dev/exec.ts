// Runs host tools (ip, the build script) and turns a failure into an error that quotes
// the command and its stderr, because "exit code 2" alone tells the user nothing.
import { execFile } from 'node:child_process';

export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';
  constructor(
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`command failed (exit ${exitCode ?? 'signal'}): ${command.join(' ')}\n${stderr.trim()}`);
  }
}

export interface RunOptions {
  /** Do not throw when the command fails; used by clean-up that must tolerate absent objects. */
  allowFailure?: boolean;
  env?: NodeJS.ProcessEnv;
  input?: string;
}

export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && !options.allowFailure) {
        const code = typeof err.code === 'number' ? err.code : null;
        reject(new CommandFailedError([cmd, ...args], code, String(stderr) || err.message));
        return;
      }
      resolve(String(stdout));
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
