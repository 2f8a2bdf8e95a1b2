import { CommanderError } from 'commander';

import { CliError } from './cli-error.ts';
import { gwmoProgram } from './program.ts';

const program = gwmoProgram();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  // one line, no stack: the message names the input that was wrong
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`gwmo: ${message}\n`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
}
