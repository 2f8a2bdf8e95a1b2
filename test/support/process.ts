// A gwmo process whose JSON log lines the test waits on (no sleeping: each wait is for an event).
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** the admin token every spawned server provisions (GWMO_ADMIN_TOKEN) and tests send */
export const TEST_TOKEN = 'gwmo-test-admin-token-0123456789';
export const AUTH = { authorization: `Bearer ${TEST_TOKEN}` } as const;

export interface LogLine {
  readonly event: string;
  readonly [key: string]: unknown;
}

export class GwmoProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  stderr = '';
  private waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  /** `prefix`: a command to run gwmo under, e.g. ["ip", "netns", "exec", "<ns>"]; `gwmo`: how to start it (an installed copy); `cwd`: where relative paths (./data) land */
  constructor(
    args: readonly string[],
    prefix: readonly string[] = [],
    env: Record<string, string> = {},
    { gwmo = [process.execPath, MAIN], cwd }: { gwmo?: readonly string[]; cwd?: string } = {},
  ) {
    const argv = [...prefix, ...gwmo, ...args];
    this.child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GWMO_ADMIN_TOKEN: TEST_TOKEN, ...env },
      ...(cwd ? { cwd } : {}),
    });
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
    });
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
  }

  /** The first line (already seen from index `from`, or to come) that matches, or a rejection after `timeoutMs`. */
  waitFor(match: (l: LogLine) => boolean, timeoutMs = 15_000, from = 0): Promise<LogLine> {
    for (let i = from; i < this.lines.length; i++) if (match(this.lines[i]!)) return Promise.resolve(this.lines[i]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }

  /**
   * Waits for a line that appears after this call. By index, not `lines.indexOf` in the match: that
   * made each new line cost a scan of every line kept (a 35-minute soak's rounds slowed from 0.65 s
   * to ~2 s while its harness process used 60 % of a core and gwmo's servers 7–11 %).
   */
  next(match: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    return this.waitFor(match, timeoutMs, this.lines.length);
  }

  async stop(): Promise<number | null> {
    // killed by a signal: exitCode stays null, and 'exit' will not come again
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill('SIGTERM');
    // gwmo forces its own exit 5 s after SIGTERM; past that, make sure the test's cleanup goes on
    const stuck = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    return exited.finally(() => clearTimeout(stuck));
  }
}
