// Debian's HAProxy in front of server instances, configured with the haproxy.cfg docs/scale.md shows
// (read from the docs at run time, so the documented configuration is the tested one): only the
// listening address and the servers' addresses are put in for the run's loopback ports.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DOCS = new URL('../../docs/scale.md', import.meta.url);
/** the section of docs/scale.md whose first ```haproxy block is the tested configuration */
const SECTION = '## Deployment behind a load balancer';

/** why HAProxy cannot run here, or undefined when it can */
export function haproxyMissing(): string | undefined {
  const r = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : "haproxy is not installed: install Debian's haproxy (.ci/run does)";
}

/** The configuration docs/scale.md documents, as written. */
export function documentedConfig(): string {
  const md = readFileSync(DOCS, 'utf8');
  const at = md.indexOf(`\n${SECTION}`);
  const open = md.indexOf('```haproxy\n', at);
  if (at < 0 || open < 0) throw new Error(`docs/scale.md has no \`\`\`haproxy block under "${SECTION}"`);
  const start = open + '```haproxy\n'.length;
  return md.slice(start, md.indexOf('\n```', start) + 1);
}

/** The documented configuration with `bind` on `listen` and one `server` line per instance port, in order. */
export function configFor(listen: number, ports: readonly number[]): string {
  let i = 0;
  const text = documentedConfig()
    .replace(/^(\s*bind\s+)\S+/m, `$1127.0.0.1:${listen}`)
    .replace(/^(\s*server\s+\S+\s+)\S+/gm, (_, head: string) => `${head}127.0.0.1:${ports[i++] ?? 0}`);
  if (i !== ports.length) throw new Error(`docs/scale.md's haproxy.cfg names ${i} servers, the run has ${ports.length}`);
  return text;
}

export interface Haproxy {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Runs `haproxy -f <dir>/haproxy.cfg` in the foreground; resolves once it answers /healthz through a server. */
export async function startHaproxy(dir: string, listen: number, ports: readonly number[]): Promise<Haproxy> {
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, configFor(listen, ports));
  const child = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = `http://127.0.0.1:${listen}`;
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`haproxy exited ${code}: ${stderr}`))));
  exited.catch(() => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await Promise.race([
      fetch(`${url}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      ),
      exited,
    ]);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL'); // not left running behind a failed start
      throw new Error(`haproxy did not answer within 10 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
