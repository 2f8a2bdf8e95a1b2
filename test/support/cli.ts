import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs `gwmo ARGS` as a child process (the same Node as the tests), feeding stdin when given. */
export function runCli(args: readonly string[], stdin?: Uint8Array, timeoutMs = 20_000): Promise<CliRun> {
  return run([process.execPath, MAIN, ...args], { ...(stdin ? { stdin } : {}), timeoutMs });
}

/** Runs a command to its end: its exit code and output. */
export function run(
  argv: readonly string[],
  o: { stdin?: Uint8Array; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: o.timeoutMs ?? 20_000,
      ...(o.env ? { env: o.env } : {}),
      ...(o.cwd ? { cwd: o.cwd } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(o.stdin);
  });
}
