// A throw-away PostgreSQL cluster for tests: initdb + pg_ctl in a temp dir, on a free loopback
// port, run as the `postgres` user when we are root (PostgreSQL refuses to run as root), removed
// after. Missing binaries fail the test with what to install: a skipped store test proves nothing.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';
import { freePort } from './ports.ts';

const run = promisify(execFile);

export interface PgCluster {
  /** postgres:// URL of the `postgres` database */
  readonly url: string;
  readonly port: number;
  /** a new, empty database on the cluster; its URL */
  database(): Promise<string>;
  /** `pg_ctl stop -m fast`: PostgreSQL goes away (an outage) until start() */
  stop(): Promise<void>;
  /** starts the stopped cluster again, on the same port */
  start(): Promise<void>;
  close(): Promise<void>;
}

function binDir(): string {
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(debian, versions[0], 'bin');
  }
  for (const dir of (process.env['PATH'] ?? '').split(delimiter))
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  throw new Error(
    "PostgreSQL's initdb and pg_ctl were not found (looked in /usr/lib/postgresql/*/bin and PATH): install Debian's postgresql (apt-get install postgresql)",
  );
}

export async function startPostgres(): Promise<PgCluster> {
  const bin = binDir();
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-pg-'));
  const asRoot = process.getuid?.() === 0;
  const prefix = asRoot ? ['runuser', '-u', 'postgres', '--'] : [];
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
      throw new Error("running as root and there is no `postgres` user to run PostgreSQL as: install Debian's postgresql");
    });
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const exec = (cmd: string, args: string[]): Promise<unknown> => {
    const argv = [...prefix, join(bin, cmd), ...args];
    return run(argv[0]!, argv.slice(1), { cwd: dir });
  };
  const data = join(dir, 'data');
  await exec('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  let port = 0;
  let opts = '';
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    // durability off: a test cluster is thrown away; max_connections for several server instances
    opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    try {
      await exec('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', '-o', opts, 'start']);
      break;
    } catch (err) {
      const log = await readFile(join(dir, 'log'), 'utf8').catch(() => '');
      if (attempt < 3 && /already in use|could not bind/i.test(log)) continue; // another process took the port
      await rm(dir, { recursive: true, force: true });
      throw new Error(`pg_ctl start failed: ${String(err)}\n${log}`);
    }
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let n = 0;
  return {
    url,
    port,
    async database() {
      const name = `t${process.pid}_${++n}`;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    async start() {
      await exec('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', '-o', opts, 'start']);
    },
    async close() {
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
