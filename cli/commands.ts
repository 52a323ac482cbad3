// Each part contributes its own subcommands; this list is the only place they meet.
import type { Command } from 'commander';

export function commands(): Command[] {
  return [];
}
