// Each part contributes its own subcommands; this list is the only place they meet.
import type { Command } from 'commander';
import { demoAppCommand } from '../demo/command.ts';
import { destinationCommand } from '../destination/command.ts';
import { demoCommand } from '../dev/demo-command.ts';
import { devCommand } from '../dev/dev-command.ts';
import { certsCommand } from '../identity/certs-command.ts';
import { gatewayCommand } from '../gateway/command.ts';
import { outboundCommand } from '../gateway/outbound-command.ts';
import { identityCommand } from '../identity-service/command.ts';
import { linkCommands } from '../link/command.ts';
import { mirrorCommand } from '../mirror/command.ts';

export function commands(): Command[] {
  return [
    devCommand(),
    certsCommand(),
    ...linkCommands(),
    mirrorCommand(),
    identityCommand(),
    gatewayCommand(),
    outboundCommand(),
    destinationCommand(),
    demoCommand(),
    demoAppCommand(),
  ];
}
