// Writes pg-server-before-profiles.sql: a PostgreSQL database made by an OLD checkout's store code,
// dumped with pg_dump (see README.md here):
//   git worktree add --detach /tmp/old-pg 586e1e0^ && ln -s "$PWD/node_modules" /tmp/old-pg/node_modules
//   npx node test/vectors/upgrade/make-pg.ts /tmp/old-pg
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { startPostgres } from '../../support/postgres.ts';

const old = process.argv[2];
if (!old) throw new Error('usage: make-pg.ts <old checkout>');
const here = new URL('.', import.meta.url).pathname;
const cluster = await startPostgres();
try {
  const url = await cluster.database();
  const { PgServerStore } = await import(join(old, 'src/store/postgres/server.ts'));
  const s = await PgServerStore.open(url);
  await s.putDevice({
    deviceId: 'IMEI:OLD-PG',
    scheme: 'syncml:auth-md5',
    clientName: 'old-pg',
    clientPassword: 'old-pw',
    serverName: 'gwmo',
    serverPassword: 'srv-pw',
    devInfo: { Mod: 'old-model' },
    createdAt: 1_700_000_000_000,
  });
  await s.queueOperation({ id: 'pg-op-done', deviceId: 'IMEI:OLD-PG', kind: 'Get', target: './DevInfo/Mod' }, 1_700_000_001_000);
  await s.finishOperation('pg-op-done', { state: 'done', status: 200, results: [{ source: './DevInfo/Mod', data: 'old-model' }] }, 1_700_000_002_000);
  await s.queueOperation({ id: 'pg-op-queued', deviceId: 'IMEI:OLD-PG', kind: 'Replace', target: './Vendor/X', data: 'y' }, 1_700_000_003_000);
  await s.addAlert({
    deviceId: 'IMEI:OLD-PG',
    code: 1226,
    items: [{ type: 'org.openmobilealliance.dm.firmwareupdate.devicerequest', data: '0' }],
    receivedAt: 1_700_000_004_000,
  });
  await s.close();
  const debian = '/usr/lib/postgresql';
  const version = readdirSync(debian).find((v) => existsSync(join(debian, v, 'bin', 'pg_dump')))!;
  const sql = execFileSync(join(debian, version, 'bin', 'pg_dump'), ['--no-owner', '--no-privileges', '--inserts', url], { encoding: 'utf8' });
  // psql meta-commands (\restrict …) are not SQL: the test loads the dump with a plain client
  writeFileSync(
    join(here, 'pg-server-before-profiles.sql'),
    sql
      .split('\n')
      .filter((l) => !l.startsWith('\\'))
      .join('\n'),
  );
} finally {
  await cluster.close();
}
