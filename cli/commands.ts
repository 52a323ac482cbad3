// Each part contributes its own subcommands; this list is the only place they meet.
import type { Command } from 'commander';
import { devCommand } from '../dev/dev-command.ts';
import { certsCommand } from '../identity/certs-command.ts';
import { linkCommands } from '../link/command.ts';
import { mirrorCommand } from '../mirror/mirror-command.ts';

export function commands(): Command[] {
  return [devCommand(), certsCommand(), ...linkCommands(), mirrorCommand()];
}
