// Each part contributes its own subcommands; this list is the only place they meet.
import type { Command } from 'commander';
import { linkCommands } from '../link/commands.ts';

export function commands(): Command[] {
  return [...linkCommands()];
}
