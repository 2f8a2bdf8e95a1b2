// Builds and runs the libwbxml C harness (bench/support/libwbxml-harness.c) into bench/out/.
import { execFile } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('./libwbxml-harness.c', import.meta.url));
const OUT_DIR = fileURLToPath(new URL('../out/', import.meta.url));
const BINARY = `${OUT_DIR}libwbxml-harness`;

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

export async function buildHarness(): Promise<string> {
  if (mtime(BINARY) > mtime(SOURCE)) return BINARY;
  mkdirSync(OUT_DIR, { recursive: true });
  let flags: string[];
  try {
    flags = (await run('pkg-config', ['--cflags', '--libs', 'libwbxml2'])).stdout.trim().split(/\s+/);
  } catch {
    throw new Error('pkg-config cannot find libwbxml2: apt-get install libwbxml2-dev gcc pkg-config');
  }
  try {
    await run('cc', ['-O2', '-o', BINARY, SOURCE, ...flags]);
  } catch (err) {
    throw new Error(
      `cannot compile the libwbxml harness (apt-get install gcc libc6-dev): ${(err as { stderr?: string }).stderr ?? String(err)}`,
    );
  }
  return BINARY;
}

export interface HarnessRun {
  readonly messages: number;
  readonly seconds: number;
  readonly msgs_per_s: number;
}

export async function runHarness(binary: string, seconds: number, files: readonly string[]): Promise<HarnessRun> {
  const { stdout } = await run(binary, [String(seconds), ...files]);
  return JSON.parse(stdout) as HarnessRun;
}
