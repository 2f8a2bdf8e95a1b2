// Observations through the gateway: the DM server sets one with ./GwMO/Observations, notifications
// reach it as org.gwmo.lwm2m.notify Generic Alerts (SenML JSON), Send as org.gwmo.lwm2m.send; a
// device that registers again is observed again; Delete cancels on the device.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';

import { OBSERVATIONS_KEY } from '../../src/gateway/lwm2m-observations.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { SqliteGatewayStore } from '../../src/store/sqlite/gateway.ts';
import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { LOCAL } from '../../src/tree/index.ts';
import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';

type Srv = Awaited<ReturnType<typeof startServer>>;

/** the SenML records of an alert's Data, an empty base name left out */
function records(data: string): Record<string, unknown>[] {
  return (JSON.parse(data) as Record<string, unknown>[]).map(({ bn, ...r }) => (bn === '' || bn === undefined ? r : { bn, ...r }));
}

/** the next alert of `type` for `device` (Source ends with it), from now on */
async function nextAlert(srv: Srv, type: string, device: string): Promise<{ data: string }> {
  srv.alerts.length = 0;
  for (;;) {
    const a = await srv.alertOf(type, 10_000);
    const item = a.items.find((i) => i.type === type && String(i.source ?? '').endsWith(`/${device}`));
    if (item) return { data: String(item.data) };
    srv.alerts.splice(
      srv.alerts.findIndex((x) => x.alert === a),
      1,
    ); // another device's: wait on
  }
}

test('the server observes a resource on two devices; changes, Sends and re-registration reach it; Delete cancels', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true });
  const server = `coap://${gw.gateway.lwm2mAddress}`;
  const devs = ['lwA', 'lwB'].map((endpoint) => new Lwm2mDevice({ endpoint, server }));
  try {
    for (const d of devs) {
      const registered = once(gw.gateway.lwm2m!, 'registered', { signal: AbortSignal.timeout(10_000) });
      await d.start();
      await registered;
    }
    const first = nextAlert(srv, 'org.gwmo.lwm2m.notify', 'lwB');
    for (const o of [
      { kind: 'Add' as const, path: './GwMO/Observations/temp', format: 'node' },
      { kind: 'Replace' as const, path: './GwMO/Observations/temp/Path', value: './3303/0/5700' },
      { kind: 'Replace' as const, path: './GwMO/Observations/temp/Devices', value: 'lwA,lwB' },
      { kind: 'Replace' as const, path: './GwMO/Observations/temp/Attributes', value: 'pmin=1&pmax=60&st=0.5' },
      { kind: 'Exec' as const, path: './GwMO/Observations/temp/Operations/Start' },
    ])
      await srv.server.service.queue(GW_ID, o);
    await gw.gateway.checkIn();
    // the value when the observation starts comes first
    assert.deepEqual(records((await first).data), [{ n: '/3303/0/5700', v: 21.5 }]);
    assert.deepEqual(devs[0]!.attributes.get('/3303/0/5700'), { pmin: '1', pmax: '60', st: '0.5' });
    assert.deepEqual(
      devs.map((d) => d.observed),
      [['/3303/0/5700'], ['/3303/0/5700']],
    );
    assert.equal(gw.gateway.observations!.active('temp'), 2);

    const changed = nextAlert(srv, 'org.gwmo.lwm2m.notify', 'lwA');
    devs[0]!.set(3303, 0, 5700, -30);
    assert.deepEqual(records((await changed).data), [{ n: '/3303/0/5700', v: -30 }]);

    const sent = nextAlert(srv, 'org.gwmo.lwm2m.send', 'lwB');
    assert.equal(await devs[1]!.sendValues([{ objectId: 3, instanceId: 0, resourceId: 1 }]), '2.04');
    assert.deepEqual(records((await sent).data), [{ n: '/3/0/1', vs: 'lwm2m-sim' }]);

    // kept in the store (a restarted gateway reads it) and set again when the device registers again
    assert.deepEqual(JSON.parse(gw.gstore.getConfig(OBSERVATIONS_KEY) ?? '[]'), [
      { name: 'temp', path: './3303/0/5700', devices: ['lwA', 'lwB'], attributes: { pmin: 1, pmax: 60, st: 0.5 }, started: true },
    ]);
    const again = nextAlert(srv, 'org.gwmo.lwm2m.notify', 'lwA');
    await devs[0]!.register();
    await again;
    const afterReRegister = nextAlert(srv, 'org.gwmo.lwm2m.notify', 'lwA');
    devs[0]!.set(3303, 0, 5700, 5);
    assert.deepEqual(records((await afterReRegister).data), [{ n: '/3303/0/5700', v: 5 }]);

    const tree = await gw.gateway.tree.get(LOCAL, './GwMO/Observations/temp/Active');
    assert.equal(tree.value?.[0]?.data, '2');
    const ended = devs.map((d) => once(d.events, 'unobserved', { signal: AbortSignal.timeout(5_000) }));
    await srv.server.service.queue(GW_ID, { kind: 'Delete', path: './GwMO/Observations/temp' });
    await gw.gateway.checkIn();
    assert.equal(gw.gateway.observations!.get('temp'), undefined);
    await Promise.all(ended);
  } finally {
    for (const d of devs) await d.stop();
    await gw.close();
    await srv.close();
  }
});

test('an observation with an unknown attribute or no devices is refused, and nothing is observed', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true });
  try {
    const obs = gw.gateway.observations!;
    const tree = gw.gateway.tree;
    assert.equal(await tree.add(LOCAL, './GwMO/Observations/bad', { format: 'node' }), 200);
    assert.equal(await tree.replace(LOCAL, './GwMO/Observations/bad/Attributes', { data: 'every=5' }), 400);
    assert.equal(await tree.exec(LOCAL, './GwMO/Observations/bad/Operations/Start', {}), 412);
    assert.deepEqual(obs.get('bad'), { name: 'bad', path: '', devices: [], attributes: {} });
    assert.equal(obs.active('bad'), 0);
  } finally {
    await gw.close();
    await srv.close();
  }
});

test('observations survive a gateway restart: the device registers with the new process and is observed again', async () => {
  const srv = await startServer();
  const probe = createSocket('udp4'); // a free UDP port both gateway processes take in turn
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const south = new SqliteServerStore(':memory:');
  const gstore = new SqliteGatewayStore(':memory:');
  let gw = await startGateway(srv.url, { lwm2m: { port }, south, gstore });
  const dev = new Lwm2mDevice({ endpoint: 'lwR', server: `coap://127.0.0.1:${port}`, lifetimeS: 2 }); // an Update every second
  try {
    const registered = once(gw.gateway.lwm2m!, 'registered', { signal: AbortSignal.timeout(10_000) });
    await dev.start();
    await registered;
    const tree = gw.gateway.tree;
    await tree.add(LOCAL, './GwMO/Observations/r', { format: 'node' });
    await tree.replace(LOCAL, './GwMO/Observations/r/Path', { data: './3303/0/5700' });
    await tree.replace(LOCAL, './GwMO/Observations/r/Devices', { data: 'lwR' });
    assert.equal(await tree.exec(LOCAL, './GwMO/Observations/r/Operations/Start', {}), 200);
    await gw.gateway.observations!.start('r'); // the Exec started it in the background: this waits for the device's answer
    assert.deepEqual(dev.observed, ['/3303/0/5700']);

    await gw.close();
    gw = await startGateway(srv.url, { lwm2m: { port }, south, gstore });
    const observedAgain = once(gw.gateway.observations!, 'observing', { signal: AbortSignal.timeout(10_000) });
    // the new process does not know the registration: the device's next Update is 4.04 and it registers again
    const back = once(gw.gateway.lwm2m!, 'registered', { signal: AbortSignal.timeout(10_000) });
    await back;
    await observedAgain;
    assert.equal(gw.gateway.observations!.active('r'), 1, 'observed again after the restart');
    assert.deepEqual(dev.observed, ['/3303/0/5700']);
  } finally {
    await dev.stop();
    await gw.close();
    await srv.close();
  }
});

test('a device that sends without pause raises at most its burst of alerts; the rest are counted as dropped', async (t) => {
  const { Lwm2mServer } = await import('../../src/adapters/lwm2m/server.ts');
  const { Lwm2mObservations } = await import('../../src/gateway/lwm2m-observations.ts');
  const server = new Lwm2mServer({ port: 0 });
  const { host, port } = await server.listen();
  t.after(() => server.close());
  const gstore = new SqliteGatewayStore(':memory:');
  t.after(() => gstore.close());
  const alerts: string[] = [];
  const obs = new Lwm2mObservations({ server, store: gstore, alert: (a) => alerts.push(a.type), rate: { perSecond: 0, burst: 3 } });
  const dev = new Lwm2mDevice({ endpoint: 'chatty', server: `coap://${host}:${port}` });
  const registered = once(server, 'registered', { signal: AbortSignal.timeout(5_000) });
  await dev.start();
  t.after(() => dev.stop());
  await registered;
  for (let i = 0; i < 10; i++) assert.equal(await dev.sendValues([{ objectId: 3, instanceId: 0, resourceId: 0 }]), '2.04');
  assert.deepEqual(alerts, ['org.gwmo.lwm2m.send', 'org.gwmo.lwm2m.send', 'org.gwmo.lwm2m.send']);
  assert.equal(obs.dropped, 7);
});

test('an Observe asks in a format the device speaks: TLV for a 1.0 device, SenML JSON for one that announced only it, text for one resource; a refusal is logged', async (t) => {
  const { Lwm2mServer } = await import('../../src/adapters/lwm2m/server.ts');
  const { Lwm2mObservations } = await import('../../src/gateway/lwm2m-observations.ts');
  const server = new Lwm2mServer({ port: 0 });
  const { host, port } = await server.listen();
  t.after(() => server.close());
  const gstore = new SqliteGatewayStore(':memory:');
  t.after(() => gstore.close());
  const alerts: { source: string; data: string }[] = [];
  const logs: [string, Record<string, unknown>][] = [];
  const obs = new Lwm2mObservations({
    server,
    store: gstore,
    alert: (a) => alerts.push({ source: a.source, data: String(a.data) }),
    log: (e, f) => logs.push([e, f]),
  });
  const devs = [
    new Lwm2mDevice({ endpoint: 'v10', server: `coap://${host}:${port}`, version: '1.0' }),
    new Lwm2mDevice({ endpoint: 'json', server: `coap://${host}:${port}`, formats: 'json' }),
  ];
  for (const d of devs) {
    const registered = once(server, 'registered', { signal: AbortSignal.timeout(5_000) });
    await d.start();
    t.after(() => d.stop());
    await registered;
  }
  obs.put({ name: 'inst', path: './3303/0', devices: ['v10', 'json'], attributes: {} });
  obs.put({ name: 'one', path: './3303/0/5700', devices: ['v10', 'json'], attributes: {} });
  assert.deepEqual(await obs.start('inst'), { v10: '2.05', json: '2.05' });
  assert.deepEqual(await obs.start('one'), { v10: '2.05', json: '2.05' });
  assert.deepEqual(
    devs.map((d) => d.refusals),
    [0, 0],
    'no format was refused (asking a 1.0 device for SenML JSON was 4.06)',
  );
  const first = (ep: string, n: string): unknown =>
    alerts
      .filter((a) => a.source.endsWith(`/${ep}`))
      .flatMap((a) => records(a.data))
      .find((r) => r['n'] === n);
  for (const ep of ['v10', 'json']) assert.deepEqual(first(ep, '/3303/0/5700'), { n: '/3303/0/5700', v: 21.5 }, ep);
  assert.deepEqual(logs, []);

  // a refusal is logged: the API answered the Start long before the device did
  obs.put({ name: 'none', path: './32769/0/1', devices: ['v10'], attributes: { pmin: 1 } });
  assert.deepEqual(await obs.start('none'), { v10: '4.04' });
  assert.deepEqual(logs, [
    ['lwm2m.observe.refused', { name: 'none', endpoint: 'v10', path: './32769/0/1', request: 'Write-Attributes', code: '4.04' }],
  ]);
});
