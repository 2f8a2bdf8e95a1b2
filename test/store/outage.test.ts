// The database going away is an outage, not a bug (issue 20, section 4): PostgreSQL stopped and a
// full disk under SQLite are answered 503 (DM: Retry-After, devices try later) and 507 (API: storage
// full), logged once each way, and over without a restart; nothing committed before is lost.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { storeFaultOf } from '../../src/store/health.ts';
import { writeTransaction } from '../../src/store/sqlite/tx.ts';
import { pkg1, postDm } from '../support/dm-raw.ts';
import { type Instance, startInstance } from '../support/instance.ts';
import { type PgCluster, startPostgres } from '../support/postgres.ts';
import type { GwmoProcess } from '../support/process.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gwmo-outage-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const account = (deviceId: string): Record<string, string> => ({
  deviceId,
  name: deviceId,
  password: 'dev-pw',
  serverName: 'gwmo',
  serverPassword: 'srv-pw',
  scheme: 'basic',
});

/** the server logged no bug for the outage: no http.error, no stack, no masking rollback message */
function assertQuietLog(proc: GwmoProcess): void {
  const bugs = proc.lines.filter((l) => l.event === 'http.error' || l['level'] === 'error');
  assert.deepEqual(bugs, [], 'an outage is not logged as an error per request');
  assert.doesNotMatch(JSON.stringify(proc.lines), /cannot rollback/);
}

test('a failed transaction rethrows SQLITE_FULL, not the ROLLBACK that found no transaction', () => {
  const db = new DatabaseSync(join(dir, 'tiny.db'));
  db.exec('CREATE TABLE t (b BLOB); PRAGMA max_page_count = 8;');
  const big = new Uint8Array(64 * 1024);
  assert.throws(
    () => writeTransaction(db, () => db.prepare('INSERT INTO t VALUES (?)').run(big)),
    (err: unknown) => storeFaultOf(err)?.state === 'full' && /full/.test((err as Error).message),
  );
  assert.equal(db.isTransaction, false);
  db.close();
});

test('PostgreSQL stopped (pg_ctl stop -m fast): API 503 + Retry-After, /dm 503 + Retry-After, one warn line; started again: 200 without a restart', async () => {
  let cluster: PgCluster | undefined;
  let server: Instance | undefined;
  try {
    cluster = await startPostgres();
    server = await startInstance(await cluster.database(), join(dir, 'pg'));
    assert.equal((await server.call('POST', '/devices', account('IMEI:OUTAGE-1'))).status, 201);

    await cluster.stop();
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${server.api}/devices`, { headers: { authorization: 'Bearer gwmo-test-admin-token-0123456789' } });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '5');
      const body = (await res.json()) as { error: string; cause: string };
      assert.equal(body.error, 'database unavailable');
      assert.match(body.cause, /ECONNREFUSED|connect|terminat/i);
      const dm = await postDm(server.dm, pkg1('IMEI:OUTAGE-1', server.dm));
      assert.equal(dm.status, 503, dm.body.toString());
      assert.equal(dm.headers['retry-after'], '5');
    }
    const down = await server.proc.waitFor((l) => l.event === 'store.unavailable');
    assert.equal(down['level'], 'warn');
    assert.equal(down['state'], 'unavailable');

    await cluster.start();
    const listed = await server.call('GET', '/devices');
    assert.equal(listed.status, 200, JSON.stringify(listed.json));
    assert.deepEqual(
      listed.json.items.map((d: { deviceId: string }) => d.deviceId),
      ['IMEI:OUTAGE-1'],
    );
    const dm = await postDm(server.dm, pkg1('IMEI:OUTAGE-1', server.dm));
    assert.equal(dm.status, 200);
    const up = await server.proc.waitFor((l) => l.event === 'store.available');
    assert.equal(up['level'], 'info');
    assert.equal(server.proc.lines.filter((l) => l.event === 'store.unavailable').length, 1, 'one warn line per outage');
    // the change listener reconnects every second while PostgreSQL is down: said once, not each time
    await server.proc.waitFor((l) => l.event === 'store.listen.back');
    assert.equal(server.proc.lines.filter((l) => l.event === 'store.listen.lost').length, 1);
    assertQuietLog(server.proc);
  } finally {
    await server?.proc.stop();
    await cluster?.close();
  }
});

test('SQLite on a full disk (a 2 MB tmpfs): API 507 "storage full", /dm 503 + Retry-After; space freed: writes go on, nothing committed is lost', async (t) => {
  if (process.getuid?.() !== 0) assert.fail('this test mounts a tmpfs: run it as root (CI does)');
  const mnt = join(dir, 'full');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
  t.after(() => execFileSync('umount', ['-l', mnt]));
  const server = await startInstance(join(mnt, 'server.db'), join(mnt, 'data'));
  try {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = `IMEI:FULL-${i}`;
      assert.equal((await server.call('POST', '/devices', account(id))).status, 201);
      created.push(id);
    }
    // the rest of the disk taken by another file
    const filler = join(mnt, 'filler');
    const fd = openSync(filler, 'w');
    try {
      for (;;) writeSync(fd, new Uint8Array(64 * 1024));
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    closeSync(fd);

    let full: { status: number; json: any } | undefined;
    for (let i = 0; i < 200 && !full; i++) {
      const r = await server.call('POST', '/devices', account(`IMEI:FULL-X${i}`));
      if (r.status === 201) created.push(`IMEI:FULL-X${i}`);
      else full = r;
    }
    assert.ok(full, 'the disk filled up');
    assert.equal(full.status, 507, JSON.stringify(full.json));
    assert.equal(full.json.error, 'storage full');
    assert.match(full.json.cause, /database or disk is full/);
    const dm = await postDm(server.dm, pkg1(created[0]!, server.dm));
    assert.equal(dm.status, 503, dm.body.toString());
    assert.equal(dm.headers['retry-after'], '5');
    const down = await server.proc.waitFor((l) => l.event === 'store.unavailable');
    assert.equal(down['level'], 'warn');
    assert.equal(down['state'], 'full');
    // the balancer's health check says which: reads still work, writes do not
    const health = await fetch(new URL('/healthz', server.dm));
    assert.equal(health.status, 503);
    assert.equal(((await health.json()) as { status: string }).status, 'full');

    rmSync(filler);
    assert.equal((await server.call('POST', '/devices', account('IMEI:FULL-AFTER'))).status, 201);
    assert.equal((await postDm(server.dm, pkg1(created[0]!, server.dm))).status, 200);
    await server.proc.waitFor((l) => l.event === 'store.available');
    const listed = await server.call('GET', '/devices?limit=1000');
    const ids = listed.json.items.map((d: { deviceId: string }) => d.deviceId);
    for (const id of [...created, 'IMEI:FULL-AFTER']) assert.ok(ids.includes(id), `${id} kept`);
    assertQuietLog(server.proc);
  } finally {
    await server.proc.stop();
  }
});
