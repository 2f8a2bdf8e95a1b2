// Where a device's Package#0 goes: the address it says it listens on (DevInfo/Ext/NotifyAddr) where
// that can be right, else its HTTP source address with its NotifyPort.
// Actors: a DmServer; device A listening on 127.0.0.2 but posting from 127.0.0.1; device B listening
// on 127.0.0.1 at the same port. Both hold the same server secret, as LAN devices of one gateway do.
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { test } from 'node:test';

import { DmDevice, type DeviceConfig } from '../../src/client/device.ts';
import { DmServer } from '../../src/server/dm-server.ts';
import { notifyAddressOf } from '../../src/server/notify-address.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';

const lan = (): BlockList => {
  const b = new BlockList();
  b.addSubnet('192.168.7.0', 24);
  return b;
};

test('the reported address is taken from loopback, from the source itself, or on a network of this host; else the source with the port', () => {
  const info = (addr?: string) => ({ 'Ext/NotifyPort': '4000', ...(addr ? { 'Ext/NotifyAddr': addr } : {}) });
  assert.deepEqual(notifyAddressOf(info(), '::ffff:10.1.1.1', lan), { address: '10.1.1.1:4000' });
  assert.deepEqual(notifyAddressOf(info('127.0.0.2:4001'), '127.0.0.1', lan), { address: '127.0.0.2:4001' });
  assert.deepEqual(notifyAddressOf(info('192.168.7.9:4001'), '192.168.7.20', lan), { address: '192.168.7.9:4001' });
  assert.deepEqual(notifyAddressOf(info('[fe80::1]:4001'), 'fe80::1', lan), { address: '[fe80::1]:4001' });
  // a private address from behind a NAT, or one on someone else's network: the source is used
  assert.deepEqual(notifyAddressOf(info('10.0.0.5:4001'), '203.0.113.7', lan), {
    address: '203.0.113.7:4000',
    ignored: { reported: '10.0.0.5:4001', reason: 'not on a network of this host' },
  });
  assert.deepEqual(notifyAddressOf(info('127.0.0.1:4001'), '203.0.113.7', lan).address, '203.0.113.7:4000', 'loopback only from loopback');
  assert.deepEqual(notifyAddressOf(info('printer.local:4001'), '192.168.7.20', lan).ignored?.reason, 'not an IP address and port');
});

test('a device listening on another address than it posts from is notified where it listens, not at its neighbour', async (t) => {
  const store = new SqliteServerStore(':memory:');
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const server = new DmServer({ store, serverId: 'gwmo', log: (event, fields) => logs.push({ event, fields }) });
  const url = await server.start();
  t.after(async () => {
    await server.stop();
    await store.close();
  });
  const received: Record<string, number> = { A: 0, B: 0 };
  const waiters: (() => void)[] = [];
  const ids = { A: 'IMEI:000000000000001', B: 'IMEI:000000000000002' } as const;
  for (const name of ['A', 'B'] as const)
    await server.service.addDevice({
      deviceId: ids[name],
      name: `dev-${name}`,
      password: 'dev-secret',
      serverName: 'gwmo',
      serverPassword: 'shared-srv-secret',
      scheme: 'md5',
    });
  const device = (name: 'A' | 'B', host: string, port: number): DmDevice => {
    const config: DeviceConfig = {
      deviceId: ids[name],
      serverUrl: url,
      serverId: 'gwmo',
      username: `dev-${name}`,
      password: 'dev-secret',
      serverPassword: 'shared-srv-secret',
      auth: 'md5',
      encoding: 'xml',
      manufacturer: 'gwmo',
      model: 'sim-1',
      language: 'en',
      firmware: '1.0',
      checkInSeconds: 0,
      notifyHost: host,
      notifyPort: port,
    };
    const d = new DmDevice(config, undefined, (event) => {
      if (event !== 'notification.received') return;
      received[name]!++;
      for (const w of waiters.splice(0)) w();
    });
    t.after(() => d.stop());
    return d;
  };
  // A takes any free UDP port on 127.0.0.2 and B the same one on 127.0.0.1; another process may hold
  // that one on 127.0.0.1 (other tests run alongside): then both try again on a new port
  let port = 0;
  const devices: DmDevice[] = [];
  for (let attempt = 0; devices.length === 0; attempt++) {
    const a = device('A', '127.0.0.2', 0);
    await a.start();
    port = Number(a.notifyAddress!.split(':').at(-1));
    const b = device('B', '127.0.0.1', port);
    try {
      await b.start();
      devices.push(a, b);
    } catch (err) {
      await a.stop();
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === 9) throw err;
    }
  }
  for (const [i, d] of devices.entries()) assert.equal((await d.session()).end, 'done', `${'AB'[i]}'s first session`);
  const seen = (name: 'A' | 'B', n: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} got ${received[name]} notifications, not ${n}`)), 10_000);
      const look = (): void => (received[name]! >= n ? (clearTimeout(timer), resolve()) : void waiters.push(look));
      look();
    });
  assert.equal((await server.service.device('IMEI:000000000000001')).notifyAddress, `127.0.0.2:${port}`);
  await server.service.notify('IMEI:000000000000001');
  await seen('A', 1);
  // B's own notification comes after A's would have: had A's landed at B, B would count two
  await server.service.notify('IMEI:000000000000002');
  await seen('B', 1);
  assert.deepEqual(received, { A: 1, B: 1 });
});
