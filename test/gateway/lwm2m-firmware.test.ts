// Firmware through LwM2M object 5: one distribution reaches DM devices (FUMO) and LwM2M devices
// (Package URI pull or Package push, Update, Update Result) behind one gateway.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';

import { encodeFragment } from '../../src/protocol/index.ts';
import { Lwm2mDevice, type Lwm2mDeviceOptions } from '../../src/sim/lwm2m-device.ts';
import { GW_ID, startRig } from '../support/gw-pair.ts';

const SIZE = 100_000;
const bytes = randomBytes(SIZE);
const sha = createHash('sha256').update(bytes).digest('hex');
const gid = encodeURIComponent(GW_ID);

async function rig(t: Parameters<typeof startRig>[0], lw: readonly Omit<Lwm2mDeviceOptions, 'server'>[]) {
  const r = await startRig(t, { images: true, devices: 1, gateway: { lwm2m: true } });
  const server = `coap://${r.gw.gateway.lwm2mAddress}`;
  const devices: Lwm2mDevice[] = [];
  for (const o of lw) {
    const attached = new Promise<void>((resolve) => {
      const on = (id: string): void => {
        if (id !== o.endpoint) return;
        r.gw.gateway.events.off('attached', on);
        resolve();
      };
      r.gw.gateway.events.on('attached', on);
    });
    const d = new Lwm2mDevice({ ...o, server });
    await d.start();
    t.after(() => d.stop());
    devices.push(d);
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
  // the image uploaded to the server and staged on the gateway
  assert.equal((await call('POST', '/images?name=fw&version=2.0', undefined, bytes)).status, 201);
  const ready = r.srv.alertOf('imageready');
  assert.equal((await call('POST', `/gateways/${gid}/images`, { image: sha, name: 'fw2' })).status, 202);
  const url = String((await ready).items[0]!.data);
  return { ...r, lw: devices, call, url };
}

test('one distribution: a DM device, an LwM2M device that pulls and one that takes a push all install the image', async (t) => {
  const r = await rig(t, [
    { endpoint: 'lw-pull', firmwareDelivery: 'pull' },
    { endpoint: 'lw-push', firmwareDelivery: 'push' },
  ]);
  const done = r.srv.alertOf('resultaggregation', 30_000);
  const dist = await r.call('POST', `/gateways/${gid}/distributions`, {
    image: 'fw2',
    name: 'rollout',
    object: 'fumo',
    devices: ['IMEI:000000000000000', 'lw-pull', 'lw-push'],
  });
  assert.equal(dist.status, 202, JSON.stringify(dist.json));
  assert.equal((await done).items[0]!.data, '<Aggregate total="3"><Status code="200" count="3"/></Aggregate>');
  assert.deepEqual(r.devices[0]!.fumo.installed, { sha256: sha, bytes: SIZE, requests: 1 });
  for (const d of r.lw) {
    assert.deepEqual(d.firmware.installed, { sha256: sha, bytes: SIZE }, d.options.endpoint);
    assert.equal(d.objects.get(3)!.get(0)!.get(3), sha, 'Firmware Version (/3/0/3) is the new package');
    assert.deepEqual([d.objects.get(5)!.get(0)!.get(3), d.objects.get(5)!.get(0)!.get(5)], [0, 1], 'State Idle, Update Result 1');
  }
  // the pulling device fetched from the gateway's LAN store; the pushed one got it block-wise over CoAP
  assert.equal(r.gw.gateway.images.served.bytes, 3 * SIZE, 'DM device, lw-pull, and the gateway fetching for lw-push');
  assert.equal(r.lw[1]!.largestBlockIn, 1024, 'the package went in 1024-byte blocks (Block1)');
  assert.equal(r.lw[1]!.objects.get(5)!.get(0)!.get(1), '', 'no Package URI written to a push-only device');
  const results = r.gw.gstore.listResults('rollout.fumo');
  assert.deepEqual(
    results.find((x) => x.deviceId === 'lw-pull')!.commands.map((c) => c.status),
    [200, 200, 200, 200, 200],
  );
});

test('a device that fails the update gives a failed result with its Update Result; the others are not held back', async (t) => {
  const r = await rig(t, [
    { endpoint: 'lw-ok' },
    { endpoint: 'lw-corrupt', firmwareFailure: 5 },
    { endpoint: 'lw-flash', firmwareFailure: 2 },
    { endpoint: 'lw-fails', firmwareFailure: 8 },
  ]);
  const before = r.lw.map((d) => d.objects.get(3)!.get(0)!.get(3));
  const done = r.srv.alertOf('resultaggregation', 30_000);
  const devices = r.lw.map((d) => d.options.endpoint);
  assert.equal((await r.call('POST', `/gateways/${gid}/distributions`, { image: 'fw2', name: 'bad', devices })).status, 202);
  assert.equal(
    (await done).items[0]!.data,
    '<Aggregate total="4"><Status code="200" count="1"/><Status code="420" count="1"><Device>lw-flash</Device></Status>' +
      '<Status code="500" count="2"><Device>lw-corrupt</Device><Device>lw-fails</Device></Status></Aggregate>',
  );
  const exec = (id: string) => r.gw.gstore.listResults('bad.fumo').find((x) => x.deviceId === id)!.commands[4];
  assert.deepEqual(exec('lw-corrupt'), { status: 500, data: 'Update Result 5: integrity check failure', format: 'chr' });
  assert.deepEqual(exec('lw-flash'), { status: 420, data: 'Update Result 2: not enough flash memory for the package', format: 'chr' });
  assert.deepEqual(exec('lw-fails'), { status: 500, data: 'Update Result 8: firmware update failed', format: 'chr' });
  // nothing installed on a failing device: its firmware version is unchanged
  assert.deepEqual(
    r.lw.map((d) => d.objects.get(3)!.get(0)!.get(3)),
    [sha, ...before.slice(1)],
  );
  assert.equal(r.lw[3]!.objects.get(5)!.get(0)!.get(3), 2, 'a failed update leaves the package Downloaded');
});

test('a Package URI the device cannot fetch ends in Update Result 7 (400), nothing installed', async (t) => {
  const r = await rig(t, [{ endpoint: 'lw-a' }]);
  const badLink = r.url.replace(/token=[^&]+/, 'token=forged');
  const commands = encodeFragment([
    { kind: 'Replace', cmdId: 1, items: [{ target: { locUri: './FUMO/DownloadAndUpdate/PkgURL' }, data: badLink }] },
    { kind: 'Replace', cmdId: 2, items: [{ target: { locUri: './FUMO/Ext/PkgHash' }, data: `sha256:${sha}` }] },
    { kind: 'Exec', cmdId: 3, item: { target: { locUri: './FUMO/DownloadAndUpdate' } } },
  ]);
  const done = r.srv.alertOf('resultaggregation', 30_000);
  for (const o of [
    { kind: 'Add' as const, path: './GwMO/Fanout/forged', format: 'node' },
    { kind: 'Add' as const, path: './GwMO/Fanout/forged/Targets/0', value: './GwMO/DevInventory/Devices/lw-a' },
    { kind: 'Add' as const, path: './GwMO/Fanout/forged/Commands', value: commands, format: 'xml' },
    { kind: 'Exec' as const, path: './GwMO/Fanout/forged/Operations/Start' },
  ])
    await r.srv.server.service.queue(GW_ID, o);
  await r.gw.gateway.checkIn();
  assert.equal((await done).items[0]!.data, '<Aggregate total="1"><Status code="400" count="1"><Device>lw-a</Device></Status></Aggregate>');
  assert.deepEqual(r.gw.gstore.listResults('forged')[0]!.commands[2], { status: 400, data: 'Update Result 7: invalid URI', format: 'chr' });
  assert.equal(r.lw[0]!.firmware.installed, undefined);
  assert.equal(r.gw.gateway.images.served.bytes, 0, 'the forged link served nothing');
});

test('a package above what a CoAP push may carry is 413 for a push-only device, refused before it is read', async (t) => {
  const r = await rig(t, [{ endpoint: 'lw-push', firmwareDelivery: 'push' }]);
  const big = randomBytes(1024 * 1024 + 1);
  const bigSha = createHash('sha256').update(big).digest('hex');
  assert.equal((await r.call('POST', '/images?name=big&version=3', undefined, big)).status, 201);
  r.srv.alerts.length = 0; // the first image's imageready is not this one's
  const ready = r.srv.alertOf('imageready');
  assert.equal((await r.call('POST', `/gateways/${gid}/images`, { image: bigSha, name: 'big' })).status, 202);
  await ready;
  const done = r.srv.alertOf('resultaggregation', 30_000);
  assert.equal((await r.call('POST', `/gateways/${gid}/distributions`, { image: 'big', name: 'huge', devices: ['lw-push'] })).status, 202);
  assert.equal(
    (await done).items[0]!.data,
    '<Aggregate total="1"><Status code="413" count="1"><Device>lw-push</Device></Status></Aggregate>',
  );
  const exec = r.gw.gstore.listResults('huge.fumo')[0]!.commands[4]!;
  assert.equal(exec.status, 413);
  assert.match(String(exec.data), /1048577 bytes, more than the 1048576/);
  assert.equal(r.lw[0]!.largestBlockIn, 0, 'nothing written to the device');
  assert.ok(r.gw.gateway.images.served.bytes < 1024 * 1024, 'the body was not read');
});
