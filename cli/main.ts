// The single `multicluster` binary: every component and tool is a subcommand.
import { Command, CommanderError } from 'commander';
import { commands } from './commands.ts';
import { UsageError } from './usage-error.ts';

// `multicluster install | head` closes stdout early; that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = new Command('multicluster')
  .description('Linkerd-compatible multicluster extension: service mirror, gateway, destination and tooling')
  .showHelpAfterError()
  .exitOverride();

for (const cmd of commands()) program.addCommand(cmd);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else if (err instanceof UsageError) {
    process.stderr.write(`Error: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
