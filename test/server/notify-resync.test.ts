// A device that holds another nonce for the server's Cred than the server does (it stored the one it
// issued, the server died before storing it) ignores every Package#0 keyed with the old one; the
// server follows a Package#0 left unanswered with one keyed with the resynchronisation nonce (DM
// 1.2.1, digest §6.4), and says which devices stopped answering until they open a session again.
// Actors: a DmServer (resync after 300 ms), a DmDevice, and a plain UDP socket standing for a device
// that does not answer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';

import { DmDevice } from '../../src/client/device.ts';
import { decodeNotification, RESYNC_NONCE, verifyNotification } from '../../src/protocol/index.ts';
import { DmServer } from '../../src/server/dm-server.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';

async function rig(t: { after(fn: () => unknown): void }) {
  const store = new SqliteServerStore(':memory:');
  const server = new DmServer({ store, serverId: 'gwmo', notifyResyncMs: 300 });
  const url = await server.start();
  t.after(async () => {
    await server.stop();
    await store.close();
  });
  return { store, server, url };
}

const account = (deviceId: string) => ({
  deviceId,
  name: 'dev',
  password: 'dev-secret',
  serverName: 'gwmo',
  serverPassword: 'srv-secret',
  scheme: 'md5' as const,
});

test('a device holding a newer nonce than the server answers the resync Package#0, and the queued command runs', async (t) => {
  const { store, server, url } = await rig(t);
  const id = 'IMEI:000000000000001';
  await server.service.addDevice(account(id));
  const events: string[] = [];
  const device = new DmDevice(
    {
      deviceId: id,
      serverUrl: url,
      serverId: 'gwmo',
      username: 'dev',
      password: 'dev-secret',
      serverPassword: 'srv-secret',
      auth: 'md5',
      encoding: 'xml',
      manufacturer: 'gwmo',
      model: 'sim-1',
      language: 'en',
      firmware: '1.0',
      checkInSeconds: 0,
      notifyHost: '127.0.0.1',
      notifyPort: 0,
    },
    undefined,
    (event, fields) => events.push(event === 'notification.ignored' ? `${event}: ${String(fields['reason'])}` : event),
  );
  t.after(() => device.stop());
  await device.start();
  assert.equal((await device.session()).end, 'done');
  // the server lost the nonce the device issued in that session
  await store.updateDevice(id, { serverNonce: new Uint8Array(randomBytes(16)) });

  const op = await server.service.queue(id, { kind: 'Get', path: './DevInfo/Mod' });
  await server.service.notify(id);
  const [done] = await server.service.settle([op.id], 10_000);
  assert.equal(done!.status, 200);
  assert.deepEqual(
    events.filter((e) => e.startsWith('notification.ignored')),
    ['notification.ignored: digest does not verify'],
  );
  assert.equal(server.service.notifyWatch.reason(id, (await store.getDevice(id))?.lastSeen), undefined);
  // both sides moved on from the resync nonce: the next Package#0 is keyed with the stored one
  const op2 = await server.service.queue(id, { kind: 'Get', path: './DevInfo/Mod' });
  await server.service.notify(id);
  const [again] = await server.service.settle([op2.id], 10_000);
  assert.equal(again!.status, 200);
  assert.equal(events.filter((e) => e.startsWith('notification.ignored')).length, 1);
  assert.ok(!Buffer.from((await store.getDevice(id))!.serverNonce!).equals(RESYNC_NONCE));
});

test('a silent device gets one resync Package#0 and is reported until it opens a session', async (t) => {
  const { store, server } = await rig(t);
  const id = 'IMEI:000000000000002';
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.after(() => socket.close());
  await server.service.addDevice({ ...account(id), notifyAddress: `127.0.0.1:${socket.address().port}` });
  await store.updateDevice(id, { serverNonce: new Uint8Array(randomBytes(16)) });
  const packets: Uint8Array[] = [];
  socket.on('message', (m) => packets.push(new Uint8Array(m)));

  await server.service.notify(id);
  await once(socket, 'message');
  assert.equal(server.service.notifyWatch.reason(id, undefined), undefined, 'not reported before the resync');
  const [resync] = (await once(socket, 'message')) as [Buffer];
  const n = decodeNotification(new Uint8Array(resync));
  assert.equal(verifyNotification(n, 'srv-secret', [{ source: 'resync', nonce: RESYNC_NONCE }])?.source, 'resync');
  assert.equal(verifyNotification(decodeNotification(packets[0]!), 'srv-secret', [{ source: 'resync', nonce: RESYNC_NONCE }]), undefined);
  assert.ok(Buffer.from((await store.getDevice(id))!.serverNonce!).equals(RESYNC_NONCE), 'stored before it went out');
  assert.match(server.service.notifyWatch.reason(id, undefined) ?? '', /resynchronisation nonce/);

  // the next Package#0 to the still silent device is keyed with the resync nonce too, with no extra one
  await server.service.notify(id);
  const [third] = (await once(socket, 'message')) as [Buffer];
  assert.ok(verifyNotification(decodeNotification(new Uint8Array(third)), 'srv-secret', [{ source: 'resync', nonce: RESYNC_NONCE }]));
  // a session of the device (lastSeen after the first Package#0) clears it
  assert.equal(server.service.notifyWatch.reason(id, Date.now()), undefined);
});
