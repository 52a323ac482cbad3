// Argv for running a workload script as a pod process (Node with the tsx loader).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export function workloadCommand(script: string, ...args: string[]): string[] {
  return [process.execPath, '--import', 'tsx', join(here, script), ...args];
}
