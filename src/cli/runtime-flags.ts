// V8 sizes its young generation to the allocation rate, up to 64 MB per semi-space on a 64-bit machine
// (128 MB of new space committed), and keeps it while the process stays busy: in the soak that alone
// was 56–120 MB of a server's ~190 MB, reached in steps minutes apart, so a gwmo process's memory
// climbed for most of an hour before it levelled off. gwmo's young objects are small and short-lived
// (a DM message, a row), so a small young generation costs no throughput (BENCHMARKS.md, soak) and
// bounds the process from its first minutes. V8 reads the size only when it starts, so a long-running
// command starts Node once more with the flag (same pid: process.execve), unless the operator chose one.

/** the young generation's semi-space cap gwmo's long-running commands run with, in MB */
export const SEMI_SPACE_MB = 8;
const FLAG = '--max-semi-space-size';

/** The argv to execute again with the cap, or undefined when none is needed (a short command, or a
 * size already chosen on the command line or in NODE_OPTIONS). */
export function argvWithRuntimeFlags(
  argv: readonly string[],
  execArgv: readonly string[],
  nodeOptions: string | undefined,
  longRunning: readonly string[],
): string[] | undefined {
  const command = argv[2];
  if (command === undefined || !longRunning.includes(command)) return undefined;
  const chosen = (s: string): boolean =>
    s === FLAG || s.startsWith(`${FLAG}=`) || s === '--max_semi_space_size' || s.startsWith('--max_semi_space_size=');
  if (execArgv.some(chosen) || (nodeOptions ?? '').split(/\s+/).some(chosen)) return undefined;
  return [argv[0]!, `${FLAG}=${SEMI_SPACE_MB}`, ...execArgv, ...argv.slice(1)];
}
