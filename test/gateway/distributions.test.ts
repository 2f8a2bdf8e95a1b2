// Distributions through a real server, gateway and simulated devices: the right object per device
// (FUMO, SCOMO, object 5), and each result path of each (success, corrupt, cut and resumed,
// refused) with the device's result code and its meaning in the API and the event stream.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';

import { LOCAL } from '../../src/tree/index.ts';
import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { GW_ID, startRig } from '../support/gw-pair.ts';
import { events } from '../support/sse.ts';

const SIZE = 300_000;
const bytes = randomBytes(SIZE);
const sha = createHash('sha256').update(bytes).digest('hex');
const gid = encodeURIComponent(GW_ID);
const dm = (i: number) => `IMEI:${String(i).padStart(15, '0')}`;

async function rig(t: Parameters<typeof startRig>[0], dmDevices: number, lwm2m: readonly string[], maxMsgSize?: number) {
  const r = await startRig(t, {
    images: true,
    devices: dmDevices,
    gateway: { lwm2m: true },
    ...(maxMsgSize ? { server: { maxMsgSize } } : {}),
  });
  const lw: Lwm2mDevice[] = [];
  for (const endpoint of lwm2m) {
    const attached = new Promise<void>((resolve) => {
      const on = (id: string): void => {
        if (id !== endpoint) return;
        r.gw.gateway.events.off('attached', on);
        resolve();
      };
      r.gw.gateway.events.on('attached', on);
    });
    const d = new Lwm2mDevice({ endpoint, server: `coap://${r.gw.gateway.lwm2mAddress}` });
    await d.start();
    t.after(() => d.stop());
    lw.push(d);
    await attached;
  }
  const call = async (method: string, path: string, body?: unknown, raw?: Buffer) => {
    const res = await fetch(r.api + path, {
      method,
      ...(raw
        ? { body: raw, headers: { 'content-type': 'application/octet-stream' } }
        : body
          ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
          : {}),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const up = await call('POST', '/images?name=fw&version=2.0', undefined, bytes);
  assert.equal(up.status, 201);
  const ready = r.srv.alertOf('imageready');
  assert.equal((await call('POST', `/gateways/${gid}/images`, { image: sha, name: 'fw2' })).status, 202);
  await ready;
  /** starts a distribution and follows its event stream to the end: the final distribution and the device events seen */
  const distribute = async (body: Record<string, unknown>) => {
    const started = await call('POST', `/gateways/${gid}/distributions`, { image: 'fw2', ...body });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    const res = await fetch(`${r.api}/distributions/${started.json.id}/events`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const seen: any[] = [];
    for await (const e of events(res)) {
      if (e === 'heartbeat') continue;
      if (e.event === 'device') seen.push(JSON.parse(e.data));
      if (e.event === 'done') return { started: started.json, done: JSON.parse(e.data), seen };
    }
    throw new Error('the stream ended without done');
  };
  return { ...r, lw, call, distribute, imageId: up.json.id as string };
}

const byDevice = (done: any) => Object.fromEntries(done.devices.map((d: any) => [d.deviceId, d]));

test('auto: FUMO for a DM device that has it, SCOMO for one that has only that, object 5 for an LwM2M device', async (t) => {
  const r = await rig(t, 2, ['lw-0']);
  await r.devices[1]!.tree.delete(LOCAL, './FUMO'); // this one carries SCOMO only
  const { started, done, seen } = await r.distribute({ name: 'mixed', devices: [dm(0), dm(1), 'lw-0'] });
  assert.equal(started.state, 'probing', 'the DM devices are asked what their tree has');
  assert.equal(done.state, 'done');
  const d = byDevice(done);
  assert.deepEqual(
    [dm(0), dm(1), 'lw-0'].map((id) => [d[id].object, d[id].state, d[id].resultCode, d[id].meaning]),
    [
      ['fumo', 'succeeded', 200, 'Successful'],
      ['scomo', 'succeeded', 1200, 'Successful'],
      ['lwm2m', 'succeeded', 1, 'Firmware updated successfully'],
    ],
  );
  assert.deepEqual(done.summary.byObject, { fumo: 1, scomo: 1, lwm2m: 1 });
  assert.equal(r.devices[0]!.fumo.installed?.sha256, sha);
  assert.equal(r.devices[1]!.scomo.installed.get('fw2')?.sha256, sha);
  assert.equal(r.devices[1]!.tree.read('./SCOMO/Inventory/Deployed/fw2.mixed/Version'), '2.0');
  assert.deepEqual(r.lw[0]!.firmware.installed, { sha256: sha, bytes: SIZE });
  // every device fetched from the gateway's LAN store: the image crossed the WAN once
  assert.equal(r.srv.server.images!.served.bytes, SIZE);
  assert.equal(r.gw.gateway.images.served.bytes, 3 * SIZE);
  assert.ok(
    seen.some((e) => e.deviceId === 'lw-0' && e.state === 'succeeded'),
    'the stream carried the devices as they changed',
  );
  // stored: the same answer from GET, and the device's own history
  const got = await r.call('GET', '/distributions/mixed');
  assert.deepEqual(byDevice(got.json)[dm(1)].resultCode, 1200);
  assert.deepEqual(
    (await r.srv.store.listDeviceDistributions('lw-0')).map((x) => x.state),
    ['succeeded'],
  );
});

test('FUMO result paths: corrupt (402), cut and resumed (200), refused (401)', async (t) => {
  const r = await rig(t, 3, []);
  r.devices[0]!.updateFaults.corrupt = true;
  r.devices[1]!.updateFaults.cutAfter = 100_000;
  r.devices[2]!.updateFaults.refuse = true;
  const { done } = await r.distribute({ name: 'fumo-paths', object: 'fumo', devices: [dm(0), dm(1), dm(2)] });
  const d = byDevice(done);
  assert.deepEqual(
    [dm(0), dm(1), dm(2)].map((id) => [d[id].object, d[id].state, d[id].status, d[id].resultCode, d[id].meaning]),
    [
      ['fumo', 'failed', 500, 402, 'Corrupted Firmware Update Package'],
      ['fumo', 'succeeded', 200, 200, 'Successful'],
      ['fumo', 'failed', 500, 401, 'User Cancelled'],
    ],
  );
  assert.equal(r.devices[1]!.fumo.installed?.requests, 2, 'resumed with Range after the cut');
  assert.equal(r.devices[0]!.fumo.installed, undefined);
  assert.deepEqual(done.summary.byResult, { '200 Successful': 1, '401 User Cancelled': 1, '402 Corrupted Firmware Update Package': 1 });
});

test('SCOMO result paths: corrupt (1407), cut and resumed (1200), refused (1401)', async (t) => {
  const r = await rig(t, 3, []);
  r.devices[0]!.updateFaults.corrupt = true;
  r.devices[1]!.updateFaults.cutAfter = 100_000;
  r.devices[2]!.updateFaults.refuse = true;
  const { done } = await r.distribute({ name: 'scomo-paths', object: 'scomo', devices: [dm(0), dm(1), dm(2)] });
  const d = byDevice(done);
  assert.deepEqual(
    [dm(0), dm(1), dm(2)].map((id) => [d[id].object, d[id].state, d[id].resultCode, d[id].meaning]),
    [
      ['scomo', 'failed', 1407, 'Failed Package Validation'],
      ['scomo', 'succeeded', 1200, 'Successful'],
      ['scomo', 'failed', 1401, 'User Cancelled'],
    ],
  );
  assert.equal(r.devices[1]!.scomo.installed.get('fw2')?.requests, 2);
});

test('object 5 result paths: corrupt (Update Result 5), cut and resumed (1), refused (Update Result 8)', async (t) => {
  const r = await rig(t, 0, ['lw-0', 'lw-1', 'lw-2']);
  r.lw[0]!.firmware.faults.corrupt = true;
  r.lw[1]!.firmware.faults.cutAfter = 100_000;
  r.lw[2]!.firmware.faults.refuse = true;
  const { done } = await r.distribute({ name: 'lw-paths', devices: ['lw-0', 'lw-1', 'lw-2'] });
  assert.equal(done.fanouts.length, 1, 'no probe: an LwM2M device always takes object 5');
  const d = byDevice(done);
  assert.deepEqual(
    ['lw-0', 'lw-1', 'lw-2'].map((id) => [d[id].object, d[id].state, d[id].resultCode, d[id].meaning]),
    [
      ['lwm2m', 'failed', 5, 'integrity check failure'],
      ['lwm2m', 'succeeded', 1, 'Firmware updated successfully'],
      ['lwm2m', 'failed', 8, 'firmware update failed'],
    ],
  );
  assert.equal(r.lw[1]!.firmware.lastRequests, 2);
  assert.equal(r.lw[0]!.firmware.installed, undefined);
});

test('across gateways by server image id; bad calls get a clear 4xx', async (t) => {
  const r = await rig(t, 1, []);
  const across = await r.call('POST', '/distributions', { image: r.imageId, object: 'fumo', devices: [dm(0)], name: 'everywhere' });
  assert.equal(across.status, 202, JSON.stringify(across.json));
  assert.deepEqual(
    across.json.items.map((d: any) => [d.gatewayId, d.image, d.devices.length]),
    [[GW_ID, 'fw2', 1]],
  );
  const cases: [string, string, unknown, number, RegExp][] = [
    ['POST', `/gateways/${gid}/distributions`, { image: 'fw2', devices: [dm(0)], object: 'omadm' }, 400, /object must be/],
    ['POST', `/gateways/${gid}/distributions`, { image: 'fw2' }, 400, /needs targets/],
    ['POST', `/gateways/${gid}/distributions`, { image: 'nope', devices: [dm(0)] }, 404, /has no image "nope"/],
    ['POST', `/gateways/${gid}/distributions`, { image: 'fw2', devices: ['IMEI:404'] }, 404, /has no device IMEI:404/],
    ['POST', `/gateways/${gid}/distributions`, { image: 'fw2', devices: [dm(0)], name: 'everywhere' }, 409, /exists/],
    ['POST', '/distributions', { image: r.imageId, devices: ['IMEI:nowhere'] }, 404, /no gateway has announced IMEI:nowhere/],
    ['POST', '/distributions', { image: 'f'.repeat(64), devices: [dm(0)] }, 404, /no image/],
    ['GET', '/distributions/none', undefined, 404, /no distribution "none"/],
  ];
  for (const [method, path, body, status, message] of cases) {
    const res = await r.call(method, path, body);
    assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(res.json)}`);
    assert.match(res.json.error, message);
  }
  // a group is resolved on the gateway: its members, each with its protocol
  assert.equal((await r.call('PUT', `/gateways/${gid}/groups/meters`, { members: [dm(0)] })).status, 200);
  const grouped = await r.call('POST', `/gateways/${gid}/distributions`, { image: 'fw2', object: 'fumo', groups: ['meters'], name: 'g' });
  assert.equal(grouped.status, 202, JSON.stringify(grouped.json));
  assert.deepEqual(
    grouped.json.devices.map((d: any) => [d.deviceId, d.object, d.state]),
    [[dm(0), 'fumo', 'sent']],
  );
  const noGroup = await r.call('POST', `/gateways/${gid}/distributions`, { image: 'fw2', groups: ['nobody'] });
  assert.equal(noGroup.status, 404);
  assert.match(noGroup.json.error, /has no group "nobody"/);
  const list = await r.call('GET', `/distributions?gateway=${gid}`);
  assert.deepEqual(list.json.items.map((d: any) => d.id).sort(), ['everywhere', 'g']);
});

test("every device's result is read, however many: one Get per device's entry, not one Results tree that no message holds", async (t) => {
  // messages of 8 KB to the server: a whole Results tree of 20 devices would need several
  const n = 20;
  const r = await rig(t, n, [], 8192);
  const ids = Array.from({ length: n }, (_, i) => dm(i));
  const { done } = await r.distribute({ name: 'many', object: 'fumo', devices: ids });
  assert.deepEqual(done.summary.byState, { succeeded: n }, JSON.stringify(done.devices.filter((d: any) => d.state !== 'succeeded')));
  assert.deepEqual(done.summary.byResult, { '200 Successful': n });
});
