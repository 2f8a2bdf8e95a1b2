// Upgrades (issue 20, section 3): files written by older gwmo (test/vectors/upgrade, made by the old
// code itself: see its README) open, migrate forward and keep their data; a file from a newer gwmo
// is refused with a message that says so, on SQLite and PostgreSQL, and by `gwmo server` in one line.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';

import pg from 'pg';

import { PgServerStore } from '../../src/store/postgres/server.ts';
import { GATEWAY_SCHEMA_VERSION } from '../../src/store/sqlite/gateway-schema.ts';
import { SqliteGatewayStore } from '../../src/store/sqlite/gateway.ts';
import { SERVER_SCHEMA_VERSION, SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { runCli } from '../support/cli.ts';
import { startPostgres } from '../support/postgres.ts';

const VECTORS = new URL('../vectors/upgrade/', import.meta.url).pathname;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gwmo-upgrade-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** a fixture copied to the temp dir: the test never changes the checked-in file */
const copyOf = (name: string): string => {
  const file = join(dir, `${Date.now()}-${name}`);
  copyFileSync(join(VECTORS, name), file);
  return file;
};

test('a server.db at schema 2 migrates to this schema on open and keeps its devices, operations, alerts and jobs', async () => {
  const file = copyOf('server-schema2.db');
  const s = new SqliteServerStore(file);
  try {
    const version = new DatabaseSync(file, { readOnly: true });
    assert.equal((version.prepare('SELECT version FROM schema_version').get() as { version: number }).version, SERVER_SCHEMA_VERSION);
    version.close();
    const d = await s.getDevice('IMEI:OLD-1');
    assert.equal(d?.clientPassword, 'old-pw');
    assert.equal(d?.notifyAddress, '127.0.0.1:7000');
    assert.deepEqual(d?.devInfo, { Mod: 'old-model', Man: 'old-maker' });
    assert.deepEqual((await s.getOperation('op-done'))?.results, [{ source: './DevInfo/Mod', data: 'old-model' }]);
    const taken = await s.takeOperations('IMEI:OLD-1', 10, 1_800_000_000_000);
    assert.deepEqual(
      taken.map((o) => [o.id, o.target, o.data]),
      [['op-queued', './Vendor/X', 'y']],
      'a queued operation is still sent after the upgrade',
    );
    // migration 4 filled the new column from the stored items: the old alert is found by its Type
    const byType = await s.queryAlerts({ type: 'org.openmobilealliance.dm.firmwareupdate.devicerequest', limit: 10 });
    assert.deepEqual(
      byType.map((a) => [a.deviceId, a.code]),
      [['IMEI:OLD-1', 1226]],
    );
    assert.equal((await s.listAlerts('IMEI:OLD-1')).length, 2);
    assert.equal((await s.getDeviceJob('job-1'))?.correlator, 'c-1');
  } finally {
    await s.close();
  }
});

test('a gateway.db from before group modes gains the mode column and keeps its inventory, groups, jobs and results', () => {
  const file = copyOf('gateway-before-group-modes.db');
  const g = new SqliteGatewayStore(file);
  try {
    const group = g.getGroup('meters');
    assert.deepEqual(group, { name: 'meters', description: 'the old meters', mode: 0, members: [{ name: 'a', deviceId: 'OLD-DEV' }] });
    g.setGroupMode('meters', 2);
    assert.equal(g.getGroup('meters')?.mode, 2);
    assert.equal(g.getDevice('OLD-DEV')?.mode, 2);
    assert.equal(g.getConfig('MaxConcurrency'), '8');
    assert.equal(g.getJob('old-job')?.state, 30);
    assert.deepEqual(
      g.listResults('old-job').map((r) => [r.deviceId, r.status]),
      [['OLD-DEV', 200]],
    );
  } finally {
    g.close();
  }
  const version = new DatabaseSync(file, { readOnly: true });
  assert.equal((version.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, GATEWAY_SCHEMA_VERSION);
  version.close();
  // opened again: nothing left to do
  new SqliteGatewayStore(file).close();
});

test('a file from a newer gwmo is refused: server and gateway on SQLite, and `gwmo server` says it in one line', async () => {
  const server = copyOf('server-schema2.db');
  const raw = new DatabaseSync(server);
  raw.exec(`UPDATE schema_version SET version = ${SERVER_SCHEMA_VERSION + 1}`);
  raw.close();
  assert.throws(
    () => new SqliteServerStore(server),
    new RegExp(`schema ${SERVER_SCHEMA_VERSION + 1} is newer than this gwmo \\(${SERVER_SCHEMA_VERSION}\\): upgrade gwmo`),
  );
  const r = await runCli(['server', '--port', '0', '--db', server]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /newer than this gwmo/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);

  const gateway = copyOf('gateway-before-group-modes.db');
  const rawGw = new DatabaseSync(gateway);
  rawGw.exec(`PRAGMA user_version = ${GATEWAY_SCHEMA_VERSION + 1}`);
  rawGw.close();
  assert.throws(() => new SqliteGatewayStore(gateway), /gateway database schema \d+ is newer than this gwmo/);
});

test('a PostgreSQL database from a newer gwmo is refused with the same message; one from an older gwmo (pg_dump of it) migrates forward', async () => {
  const cluster = await startPostgres();
  try {
    const old = await cluster.database();
    const load = new pg.Client({ connectionString: old });
    await load.connect();
    await load.query(readFileSync(join(VECTORS, 'pg-server-before-profiles.sql'), 'utf8'));
    await load.end();
    const s = await PgServerStore.open(old);
    try {
      assert.deepEqual((await s.getDevice('IMEI:OLD-PG'))?.devInfo, { Mod: 'old-model' });
      assert.deepEqual((await s.getOperation('pg-op-done'))?.results, [{ source: './DevInfo/Mod', data: 'old-model' }]);
      assert.deepEqual(
        (await s.takeOperations('IMEI:OLD-PG', 10, 1_800_000_000_000)).map((o) => o.id),
        ['pg-op-queued'],
      );
      const byType = await s.queryAlerts({ type: 'org.openmobilealliance.dm.firmwareupdate.devicerequest', limit: 10 });
      assert.deepEqual(
        byType.map((a) => a.code),
        [1226],
        'the alert types added later were filled in',
      );
    } finally {
      await s.close();
    }

    const url = await cluster.database();
    await (await PgServerStore.open(url)).close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const { rows } = await c.query(`SELECT version FROM schema_version WHERE component = 'server'`);
    await c.query(`UPDATE schema_version SET version = version + 1 WHERE component = 'server'`);
    await c.end();
    await assert.rejects(PgServerStore.open(url), new RegExp(`schema server ${Number(rows[0].version) + 1} is newer than this gwmo`));
  } finally {
    await cluster.close();
  }
});
