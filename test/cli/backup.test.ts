// `gwmo backup` / `gwmo restore` on SQLite (issue 20, section 3): a consistent copy while the server
// writes; a restore that refuses a file in use, a damaged or foreign file and a newer schema; and a
// server restored from a backup taken mid-fanout that sees the fanout through, each device once.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { backupSqlite } from '../../src/store/sqlite/backup.ts';
import { SERVER_SCHEMA_VERSION } from '../../src/store/sqlite/server.ts';
import { runCli } from '../support/cli.ts';
import { startInstance } from '../support/instance.ts';
import { freePort } from '../support/ports.ts';
import { AUTH, GwmoProcess } from '../support/process.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gwmo-backup-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const account = (deviceId: string, password = 'dev-pw'): Record<string, string> => ({
  deviceId,
  name: deviceId,
  password,
  serverName: 'gwmo',
  serverPassword: 'srv-pw',
  scheme: 'basic',
});

test('backup while the server writes is a consistent copy; restore is refused while the server runs, and for a damaged, foreign or newer file', async () => {
  const data = join(dir, 'online');
  mkdirSync(data);
  const server = await startInstance(join(data, 'server.db'), data);
  try {
    // writes going on during the backup: the copy has a prefix of them, whole
    let written = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) if ((await server.call('POST', '/devices', account(`IMEI:B-${written}`))).status === 201) written++;
    })();
    while (written < 5) await server.call('GET', '/devices?limit=1');
    const backup = join(dir, 'online.backup');
    const r = await runCli(['backup', backup, '--data-dir', data]);
    writing = false;
    await writer;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.toString(), new RegExp(`server store, schema ${SERVER_SCHEMA_VERSION}`));
    const copy = new DatabaseSync(backup, { readOnly: true });
    const ids = (copy.prepare('SELECT device_id FROM devices').all() as { device_id: string }[]).map((d) => d.device_id);
    assert.equal((copy.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
    copy.close();
    assert.ok(ids.length >= 5 && ids.length <= written, `${ids.length} devices in the copy, ${written} written`);
    for (let i = 0; i < ids.length; i++) assert.ok(ids.includes(`IMEI:B-${i}`), 'the copy holds every device written before its last one');

    const again = await runCli(['backup', backup, '--data-dir', data]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists: give a new file name/);

    const busy = await runCli(['restore', backup, '--data-dir', data]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /in use by a running gwmo process: stop it, then restore/);
  } finally {
    await server.proc.stop();
  }

  const damaged = join(dir, 'damaged.backup');
  writeFileSync(damaged, 'not a database at all, but long enough to be looked at as one'.repeat(100));
  const bad = await runCli(['restore', damaged, '--data-dir', data]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /damaged\.backup is (not a SQLite database|not a usable gwmo database|damaged)/);

  const foreign = join(dir, 'foreign.db');
  new DatabaseSync(foreign).exec('CREATE TABLE other (x); INSERT INTO other VALUES (1)');
  const alien = await runCli(['restore', foreign, '--data-dir', data]);
  assert.equal(alien.code, 1);
  assert.match(alien.stderr, /holds no gwmo store/);

  const newer = join(dir, 'newer.backup');
  backupSqlite(join(data, 'server.db'), newer);
  new DatabaseSync(newer).exec(`UPDATE schema_version SET version = ${SERVER_SCHEMA_VERSION + 1}`);
  const future = await runCli(['restore', newer, '--data-dir', data]);
  assert.equal(future.code, 1);
  assert.match(future.stderr, new RegExp(`schema ${SERVER_SCHEMA_VERSION + 1}, newer than this gwmo \\(${SERVER_SCHEMA_VERSION}\\)`));

  const pgDb = await runCli(['backup', join(dir, 'pg.backup'), '--db', 'postgres://gwmo@db.example.net/gwmo']);
  assert.equal(pgDb.code, 2);
  assert.match(pgDb.stderr, /back it up with pg_dump/);

  const ok = await runCli(['restore', join(dir, 'online.backup'), '--data-dir', data]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout.toString(), /the replaced file is kept as .*server\.db\.before-restore-/);
  assert.equal(readdirSync(data).filter((f) => f.startsWith('server.db.before-restore-')).length, 1);
  assert.equal(existsSync(join(data, 'server.db-wal')), false, "the replaced file's WAL went with it");
});

test('a server restored from a backup taken mid-fanout sees the fanout through: every device answers once, none twice', async () => {
  const DEVICES = 12;
  const data = join(dir, 'mid');
  const port = await freePort();
  const serverArgs = ['server', '--port', String(port), '--data-dir', data, '--session-timeout', '30'];
  const procs: GwmoProcess[] = [];
  const spawn = (args: string[]): GwmoProcess => {
    const p = new GwmoProcess(args);
    procs.push(p);
    return p;
  };
  const api = `http://127.0.0.1:${port}/api`;
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { ...AUTH, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: await res.json() };
  };
  try {
    let server = spawn(serverArgs);
    await server.waitFor((l) => l.event === 'server.started', 30_000);
    const gw = 'GW:BACKUP';
    assert.equal((await call('POST', '/devices', { ...account(gw, 'gw-pw'), name: 'gateway' })).status, 201);
    const gateway = spawn([
      'gateway',
      '--device-id',
      gw,
      '--server-url',
      `http://127.0.0.1:${port}/dm`,
      '--password',
      'gw-pw',
      '--server-password',
      'srv-pw',
      '--lan-port',
      String(await freePort()),
      '--device-password',
      'lan-pw',
      '--lwm2m-port',
      'off',
      '--check-in',
      '1',
      '--data-dir',
      join(dir, 'gw'),
    ]);
    const lan = String((await gateway.waitFor((l) => l.event === 'gateway.started', 30_000))['lan']);
    const fleet = spawn([
      'fleet',
      '--count',
      String(DEVICES),
      '--server-url',
      lan,
      '--password',
      'lan-pw',
      '--server-password',
      'lan-pw',
      '--prefix',
      'BK-',
    ]);
    await fleet.waitFor((l) => l.event === 'fleet.started', 60_000);
    const devices = Array.from({ length: DEVICES }, (_, d) => `BK-${d}`);

    const aggregated = gateway.next((l) => l.event === 'alert.queued' && String(l['type']).includes(':resultaggregation'), 60_000);
    const started = await call('POST', `/gateways/${encodeURIComponent(gw)}/fanouts?wait=30`, {
      name: 'mid',
      devices,
      commands: [{ kind: 'Get', path: './DevInfo/Mod' }],
      timeout: 20,
    });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    // the copy the CLI makes (same code), taken at once: the gateway is still running the fanout
    const backup = join(dir, 'mid.backup');
    backupSqlite(join(data, 'server.db'), backup);
    const doneBeforeBackup = gateway.lines.some((l) => l.event === 'alert.queued' && String(l['type']).includes(':resultaggregation'));
    assert.equal(doneBeforeBackup, false, 'the backup was taken while the fanout ran');

    await server.stop();
    await aggregated; // the fanout finishes on the gateway while the server is down
    const restored = await runCli(['restore', backup, '--data-dir', data]);
    assert.equal(restored.code, 0, restored.stderr);
    server = spawn(serverArgs);
    await server.waitFor((l) => l.event === 'server.started', 30_000);

    const job = await call('GET', `/gateways/${encodeURIComponent(gw)}/fanouts/mid?wait=30`);
    assert.equal(job.status, 200, JSON.stringify(job.json));
    assert.equal(job.json.State, '30', JSON.stringify(job.json));
    const ids = Object.values((job.json.Results ?? {}) as Record<string, { DeviceID?: string }>).map((r) => r.DeviceID);
    assert.deepEqual([...ids].sort(), [...devices].sort(), 'one result per device, none twice');
    assert.equal(Number(job.json.Aggregate?.['200']), DEVICES);

    // and the server goes on: a fanout after the restore is answered by every device
    const done = gateway.next((l) => l.event === 'alert.queued' && String(l['source']).endsWith('/after'), 60_000);
    const next = await call('POST', `/gateways/${encodeURIComponent(gw)}/fanouts?wait=30`, {
      name: 'after',
      devices,
      commands: [{ kind: 'Get', path: './DevInfo/Mod' }],
      timeout: 20,
    });
    assert.equal(next.status, 202, JSON.stringify(next.json));
    await done;
    const after = await call('GET', `/gateways/${encodeURIComponent(gw)}/fanouts/after?wait=30`);
    assert.equal(Number(after.json.Aggregate?.['200']), DEVICES, JSON.stringify(after.json));
  } finally {
    for (const p of procs.reverse()) await p.stop();
  }
});

test('a running gateway is backed up by asking it (its files are locked); its restore is refused while it runs and done when stopped', async () => {
  const data = join(dir, 'gw-server');
  mkdirSync(data);
  const server = await startInstance(join(data, 'server.db'), data);
  const gwDir = join(dir, 'gw-online');
  const gwArgs = [
    'gateway',
    '--device-id',
    'GW:ONLINE',
    '--server-url',
    server.dm,
    '--password',
    'gw-pw',
    '--server-password',
    'srv-pw',
    '--lan-port',
    '0',
    '--device-password',
    'lan-pw',
    '--lwm2m-port',
    'off',
    '--check-in',
    '0',
    '--data-dir',
    gwDir,
  ];
  let gateway: GwmoProcess | undefined;
  let fleet: GwmoProcess | undefined;
  try {
    assert.equal((await server.call('POST', '/devices', { ...account('GW:ONLINE', 'gw-pw'), name: 'gateway' })).status, 201);
    gateway = new GwmoProcess(gwArgs);
    const lan = String((await gateway.waitFor((l) => l.event === 'gateway.started', 30_000))['lan']);
    fleet = new GwmoProcess([
      'fleet',
      '--count',
      '3',
      '--server-url',
      lan,
      '--password',
      'lan-pw',
      '--server-password',
      'lan-pw',
      '--prefix',
      'ON-',
    ]);
    await fleet.waitFor((l) => l.event === 'fleet.started', 60_000);

    const out = join(dir, 'gw-online.backup');
    const r = await runCli(['backup', out, '--data-dir', gwDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.toString(), /while it ran: gateway\.db \(gateway\), south\.db \(server\), tree\.db \(tree\)/);
    await gateway.waitFor((l) => l.event === 'backup.done');
    const inv = new DatabaseSync(join(out, 'gateway.db'), { readOnly: true });
    const devices = (inv.prepare('SELECT device_id FROM inventory ORDER BY device_id').all() as { device_id: string }[]).map(
      (d) => d.device_id,
    );
    inv.close();
    assert.deepEqual(devices, ['ON-0', 'ON-1', 'ON-2']);

    const busy = await runCli(['restore', out, '--data-dir', gwDir]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /is running: stop it, then restore/);

    await fleet.stop();
    await gateway.stop();
    const done = await runCli(['restore', out, '--data-dir', gwDir]);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout.toString(), /restored the gateway backup .*: gateway\.db, south\.db, tree\.db/);
    gateway = new GwmoProcess(gwArgs);
    await gateway.waitFor((l) => l.event === 'gateway.started', 30_000);
  } finally {
    await fleet?.stop();
    await gateway?.stop();
    await server.proc.stop();
  }
});
