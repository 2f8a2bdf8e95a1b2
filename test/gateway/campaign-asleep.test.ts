// A campaign whose canary is a queue-mode LwM2M device asleep when its wave starts: the gateway
// holds its requests until it wakes (its Update), so it finishes its step within the campaign's
// timeout instead of failing at once, and the waves after it go on.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { rig, sha } from '../support/campaign-rig.ts';
import { GW_ID } from '../support/gw-pair.ts';

const dm = (i: number) => `IMEI:${String(i).padStart(15, '0')}`;

test('a queue-mode device asleep through the start of its wave finishes it when it wakes', { timeout: 90_000 }, async (t) => {
  const r = await rig(t, 2, { lwm2m: true, lwm2mAwakeMs: 300 });
  const lwm2m = r.gw.gateway.lwm2m!;
  const once = (emitter: NodeJS.EventEmitter, event: string, id: string) =>
    new Promise<void>((resolve) => {
      const on = (x: string | { endpoint: string }): void => {
        if ((typeof x === 'string' ? x : x.endpoint) !== id) return;
        emitter.off(event, on);
        resolve();
      };
      emitter.on(event, on);
    });
  const attached = once(r.gw.gateway.events, 'attached', 'sleeper');
  const sleeper = new Lwm2mDevice({
    endpoint: 'sleeper',
    server: `coap://${r.gw.gateway.lwm2mAddress}`,
    queue: { awakeMs: 300, sleepMs: [4000, 4000] },
  });
  await sleeper.start();
  t.after(() => sleeper.stop());
  await attached;
  await once(lwm2m, 'asleep', 'sleeper');
  const wakes = sleeper.wakes;
  const created = await r.call('POST', '/campaigns', {
    name: 'sleepy',
    gateway: GW_ID,
    image: 'fw2',
    object: 'fumo',
    devices: ['sleeper', dm(0), dm(1)],
    canary: { count: 1 },
    waves: 1,
    failureThreshold: 0,
    timeout: 60,
  });
  assert.equal(created.status, 201, created.text);
  assert.ok(sleeper.asleep, 'the canary started while its device slept');
  const done = await r.until('sleepy', (c) => c.state !== 'running', 60_000);
  assert.equal(done.state, 'done', done.reason);
  assert.ok(sleeper.wakes > wakes, 'it woke after the start');
  const report = await r.call('GET', '/campaigns/sleepy/report?format=json');
  assert.deepEqual(
    report.json.devices.map((d: any) => [d.deviceId, d.wave, d.object, d.state, d.resultCode]),
    [
      ['sleeper', 0, 'lwm2m', 'succeeded', 1],
      [dm(0), 1, 'fumo', 'succeeded', 200],
      [dm(1), 1, 'fumo', 'succeeded', 200],
    ],
  );
  assert.equal(sleeper.firmware.installed?.sha256, sha);
});

test('a DM device away when its wave starts finishes it at its next session, within the timeout', { timeout: 90_000 }, async (t) => {
  const r = await rig(t, 2);
  const away = r.devices[1]!;
  await away.stop(); // off the LAN: its notification goes nowhere
  const created = await r.call('POST', '/campaigns', {
    name: 'away',
    gateway: GW_ID,
    image: 'fw2',
    object: 'fumo',
    devices: [dm(0), dm(1)],
    canary: { count: 1 },
    waves: 1,
    failureThreshold: 0,
    timeout: 60,
  });
  assert.equal(created.status, 201, created.text);
  // the wave with the device that is away has started: its commands are sent
  await new Promise<void>((resolve) => {
    const events = r.srv.server.distributions.events;
    const on = (id: string): void => {
      if (id !== 'away.w1.b0') return;
      events.off('change', on);
      resolve();
    };
    events.on('change', on);
  });
  await away.start();
  await away.session(); // back: its own session, as at a check-in
  const done = await r.until('away', (c) => c.state !== 'running', 60_000);
  assert.equal(done.state, 'done', done.reason);
  assert.equal(away.fumo.installed?.sha256, sha);
  assert.deepEqual(
    (await r.srv.store.listDeviceDistributions(dm(1))).map((d) => [d.state, d.resultCode]),
    [['succeeded', 200]],
  );
});
