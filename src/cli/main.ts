import { CommanderError } from 'commander';

import { CliError } from './cli-error.ts';
import { gwmoProgram, LONG_RUNNING } from './program.ts';
import { argvWithRuntimeFlags } from './runtime-flags.ts';

// process.execve is Unix-only (and absent before Node 23.11): elsewhere gwmo runs with V8's defaults
const again = argvWithRuntimeFlags(process.argv, process.execArgv, process.env['NODE_OPTIONS'], LONG_RUNNING);
if (again && typeof process.execve === 'function') process.execve(process.execPath, again);

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
