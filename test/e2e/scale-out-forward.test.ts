// Two instances behind one public URL (issue 22): a session that lands on the instance that does not
// hold it is forwarded to its owner; a forged forward is refused; /healthz says whether the instance
// can reach its database, and "draining" while it stops. Actors: A and B on one database, both
// giving B's URL as the public one, so each device starts on A and sends the rest of its session to B.
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
  dir = await mkdtemp(join(tmpdir(), 'gwmo-forward-'));
});
after(async () => {
  await cluster?.close();
  await rm(dir, { recursive: true, force: true });
});

const deviceArgs = (id: string, url: string): string[] => [
  'device',
  '--device-id',
  id,
  '--server-url',
  url,
  '--username',
  'dev',
  '--password',
  'dev-pw',
  '--server-password',
  'srv-pw',
  '--auth',
  'md5',
  '--tree',
  ':memory:',
  '--model',
  'FWD-1',
  '--once',
];

test("a session started on A whose RespURI leads to B is carried on by A through B; B's forward cannot be forged; /healthz follows the database and the drain", async () => {
  const db = await cluster.database();
  const b = await startInstance(db, join(dir, 'b'));
  const a = await startInstance(db, join(dir, 'a'), ['--public-url', b.dm, '--drain', '20']);
  const procs: GwmoProcess[] = [a.proc, b.proc];
  try {
    const id = 'IMEI:FWD-1';
    const enc = encodeURIComponent(id);
    const made = await a.call('POST', '/devices', {
      deviceId: id,
      name: 'dev',
      password: 'dev-pw',
      serverName: 'gwmo',
      serverPassword: 'srv-pw',
      scheme: 'md5',
      sessionProfile: { commandsPerMessage: 2 },
    });
    assert.equal(made.status, 201);
    // two commands per message: seven messages after the first, all at B's address
    const ids: string[] = [];
    for (let i = 0; i < 12; i++)
      ids.push(
        (await a.call('POST', `/devices/${enc}/operations`, { kind: 'Add', path: `./Vendor/gwmo/F${i}`, value: String(i) })).json.id,
      );
    ids.push((await a.call('POST', `/devices/${enc}/operations`, { kind: 'Get', path: './DevInfo/Mod' })).json.id);
    const device = new GwmoProcess(deviceArgs(id, a.dm));
    procs.push(device);
    const end = await device.waitFor((l) => l.event === 'session.end', 30_000);
    assert.equal(end['end'], 'done', JSON.stringify(end));
    const done = a.proc.lines.filter((l) => l.event === 'operation.done').map((l) => String(l['id']));
    assert.deepEqual(done.sort(), [...ids].sort(), 'A, the owner, ran every operation once');
    assert.ok(!b.proc.lines.some((l) => l.event === 'operation.done' || l.event === 'session.end'), 'B only passed the messages on');
    const traced = (await a.call('GET', `/sessions?device=${enc}`)).json;
    assert.ok(JSON.stringify(traced).includes('FWD-1'), 'the owner traced the forwarded messages');

    // a message naming A's session posted to B with a made-up forward header is refused, not handled
    const forged = await fetch(`${b.dm}?s=${'0'.repeat(8)}.AAAAAAAAAAAAAAAA`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.syncml.dm+xml', 'x-gwmo-forward': `${Date.now()} 10.0.0.1 AAAA` },
      body: '<SyncML/>',
    });
    assert.equal(forged.status, 403);
    assert.match(await forged.text(), /wrong or stale signature/);

    // health: both reach the database; A draining says so while B stays up
    for (const i of [a, b]) {
      const h = await fetch(i.api.replace(/\/api$/, '/healthz'));
      assert.deepEqual([h.status, await h.json()], [200, { status: 'ok' }]);
    }
    const stopped = a.proc.stop();
    await a.proc.waitFor((l) => l.event === 'server.draining', 10_000);
    const draining = await fetch(a.api.replace(/\/api$/, '/healthz'));
    assert.equal(draining.status, 503);
    assert.equal(((await draining.json()) as { status: string }).status, 'draining');
    assert.equal(await stopped, 0, 'A stops on its own once no session is open');

    // the database gone: B's /healthz says 503 with the reason, quickly
    await cluster.close();
    const t0 = Date.now();
    const down = await fetch(b.api.replace(/\/api$/, '/healthz'));
    assert.equal(down.status, 503);
    const why = (await down.json()) as { status: string; reason: string };
    assert.equal(why.status, 'unavailable');
    assert.match(why.reason, /database/);
    assert.ok(Date.now() - t0 < 5000, `answered in ${Date.now() - t0} ms`);
  } finally {
    for (const p of procs.reverse()) await p.stop();
  }
});
