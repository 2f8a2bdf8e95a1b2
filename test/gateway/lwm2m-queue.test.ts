// LwM2M queue mode behind the gateway: requests for sleeping devices wait until each wakes (its
// Update), within the fanout's deadline; the inventory shows who listens now.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Registration } from '../../src/adapters/lwm2m/server.ts';
import { encodeFragment } from '../../src/protocol/index.ts';
import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { LOCAL } from '../../src/tree/index.ts';
import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';

const COUNT = 50;

function allOf(emitter: NodeJS.EventEmitter, name: string, ids: readonly string[], timeoutMs: number): Promise<void> {
  const left = new Set(ids);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      emitter.off(name, on);
      reject(new Error(`${left.size} without ${name} after ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (x: string | Registration): void => {
      left.delete(typeof x === 'string' ? x : x.endpoint);
      if (left.size > 0) return;
      clearTimeout(t);
      emitter.off(name, on);
      resolve();
    };
    emitter.on(name, on);
  });
}

test(`a fanout to ${COUNT} queue-mode devices that wake at random over a few seconds completes with every result`, async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true, lwm2mAwakeMs: 400 });
  const server = `coap://${gw.gateway.lwm2mAddress}`;
  const ids = Array.from({ length: COUNT }, (_, i) => `q${i}`);
  const devices = ids.map((endpoint) => new Lwm2mDevice({ endpoint, server, queue: { awakeMs: 400, sleepMs: [1500, 5000] } }));
  try {
    const attached = allOf(gw.gateway.events, 'attached', ids, 20_000);
    const asleep = allOf(gw.gateway.lwm2m!, 'asleep', ids, 20_000);
    await Promise.all(devices.map((d) => d.start()));
    await attached;
    await asleep; // each one went quiet at least once: the gateway holds what is for it
    assert.equal(gw.gstore.getDevice('q0')!.protocol, 'LwM2M/1.1');
    const sleeping = devices.filter((d) => d.asleep).map((d) => d.options.endpoint);
    assert.ok(sleeping.length > 0, 'some devices sleep when the fanout starts');
    const node = await gw.gateway.tree.get(LOCAL, `./GwMO/DevInventory/Devices/${sleeping[0]}/Awake`);
    assert.equal(node.value?.[0]?.data, 'false', 'the inventory shows it asleep');
    const wakesBefore = devices.reduce((n, d) => n + d.wakes, 0);

    const done = srv.alertOf('resultaggregation');
    const commands = encodeFragment([
      { kind: 'Get', cmdId: 1, items: [{ target: { locUri: './3/0/0' } }] },
      { kind: 'Replace', cmdId: 2, items: [{ target: { locUri: './3303/0/5750' }, data: 'held' }] },
    ]);
    for (const o of [
      { kind: 'Add' as const, path: './GwMO/Fanout/sleepy', format: 'node' },
      ...ids.map((d, i) => ({
        kind: 'Add' as const,
        path: `./GwMO/Fanout/sleepy/Targets/${i}`,
        value: `./GwMO/DevInventory/Devices/${d}`,
      })),
      { kind: 'Add' as const, path: './GwMO/Fanout/sleepy/Commands', value: commands, format: 'xml' },
      { kind: 'Add' as const, path: './GwMO/Fanout/sleepy/Options/Timeout', value: '20', format: 'int' },
      { kind: 'Add' as const, path: './GwMO/Fanout/sleepy/Options/Retries', value: '0', format: 'int' },
      { kind: 'Exec' as const, path: './GwMO/Fanout/sleepy/Operations/Start' },
    ])
      await srv.server.service.queue(GW_ID, o);
    await gw.gateway.checkIn();
    assert.equal((await done).items[0]!.data, `<Aggregate total="${COUNT}"><Status code="200" count="${COUNT}"/></Aggregate>`);
    for (const d of devices) assert.equal(d.objects.get(3303)!.get(0)!.get(5750), 'held');
    assert.ok(devices.reduce((n, d) => n + d.wakes, 0) > wakesBefore, 'requests went out as devices woke');
  } finally {
    await Promise.all(devices.map((d) => d.stop()));
    await gw.close();
    await srv.close();
  }
});

test('a request for a device that does not wake before the deadline is 408, and nothing is sent to it asleep', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true, lwm2mAwakeMs: 200 });
  const d = new Lwm2mDevice({
    endpoint: 'deep',
    server: `coap://${gw.gateway.lwm2mAddress}`,
    queue: { awakeMs: 200, sleepMs: [60_000, 60_000] },
  });
  try {
    const attached = allOf(gw.gateway.events, 'attached', ['deep'], 10_000);
    const asleep = allOf(gw.gateway.lwm2m!, 'asleep', ['deep'], 10_000);
    await d.start();
    await attached;
    await asleep;
    const { Lwm2mDriver } = await import('../../src/adapters/lwm2m/driver.ts');
    const driver = new Lwm2mDriver(gw.gateway.lwm2m!);
    const before = d.objects.get(3303)!.get(0)!.get(5750);
    const [r] = await driver.execute('deep', [{ kind: 'Replace', target: './3303/0/5750', data: 'never' }], {
      key: 'k',
      timeoutMs: 500,
      retries: 2,
      cancelled: () => false,
    });
    assert.equal(r!.status, 408);
    await d.wake(); // it wakes after the deadline: the request was dropped, not delivered late
    assert.equal(d.objects.get(3303)!.get(0)!.get(5750), before);
  } finally {
    await d.stop();
    await gw.close();
    await srv.close();
  }
});
