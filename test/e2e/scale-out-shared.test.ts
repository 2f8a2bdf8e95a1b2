// Two `gwmo server` processes on one PostgreSQL share what used to be per instance: the push
// channel (a gateway long-polling B is woken by an operation asked on A), images, the first admin.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { type PgCluster, startPostgres } from '../support/postgres.ts';
import { startInstance } from '../support/instance.ts';
import { GwmoProcess } from '../support/process.ts';

let cluster: PgCluster;
let dir: string;
before(async () => {
  cluster = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), 'gwmo-shared-'));
});
after(async () => {
  await cluster?.close();
  await rm(dir, { recursive: true, force: true });
});

const counter = async (dm: string, labels: string): Promise<number> => {
  const text = await (await fetch(dm.replace(/\/dm$/, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`gwmo_notifications_total{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
};

test('a gateway long-polling B is woken through B when an operation is asked on A (no UDP from A)', async () => {
  const db = await cluster.database();
  const a = await startInstance(db, join(dir, 'a1'));
  const b = await startInstance(db, join(dir, 'b1'));
  const procs: GwmoProcess[] = [a.proc, b.proc];
  try {
    assert.equal((await a.call('POST', '/devices', { deviceId: 'GW:POLL', name: 'gateway', password: 'gw-pw', serverName: 'gwmo', serverPassword: 'srv-pw' })).status, 201);
    const gateway = new GwmoProcess(['gateway', '--device-id', 'GW:POLL', '--server-url', b.dm, '--password', 'gw-pw', '--server-password', 'srv-pw',
      '--lan-port', '0', '--device-password', 'lan-pw', '--lwm2m-port', 'off', '--check-in', '0', '--push-channel', '--data-dir', join(dir, 'gw1')]);
    procs.push(gateway);
    await gateway.waitFor((l) => l.event === 'push.channel' && l['state'] === 'connected', 30_000);
    await b.proc.waitFor((l) => l.event === 'session.end' && l['deviceId'] === 'GW:POLL', 30_000);

    const get = await a.call('POST', '/devices/GW%3APOLL/operations', { kind: 'Get', path: './DevInfo/Mod' });
    const notified = await a.call('POST', '/devices/GW%3APOLL/notify', {});
    assert.deepEqual([notified.status, notified.json.address], [202, 'push channel'], JSON.stringify(notified.json));
    const done = await a.call('GET', `/operations/${get.json.id}?wait=20`);
    assert.deepEqual([done.json.state, done.json.status], ['done', 200], JSON.stringify(done.json));
    assert.ok(b.proc.lines.some((l) => l.event === 'operation.done' && l['id'] === get.json.id), 'the session it opened was with B');
    assert.equal(await counter(a.dm, 'outcome="relayed"'), 1, 'A handed the Package#0 to B');
    assert.equal(await counter(a.dm, 'channel="udp"'), 0, 'A sent no UDP');
    assert.equal(await counter(b.dm, 'channel="udp"'), 0);
  } finally {
    for (const p of procs.reverse()) await p.stop();
  }
});
