// A pull the LwM2M device reports lost (object 5 Update Result 4) is started again by the gateway: real
// clients commonly leave that retry to the server. The simulated device's `lostDownloads` fault cuts
// every connection of its next downloads, so its own Range resume cannot save them.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';

import { LOST_DOWNLOAD_RETRIES } from '../../src/adapters/lwm2m/firmware.ts';
import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { PULL_ATTEMPTS } from '../../src/sim/lwm2m-firmware.ts';
import { GW_ID, startRig } from '../support/gw-pair.ts';

const SIZE = 100_000;
const bytes = randomBytes(SIZE);
const sha = createHash('sha256').update(bytes).digest('hex');
const gid = encodeURIComponent(GW_ID);

async function rig(t: Parameters<typeof startRig>[0], lostDownloads: number) {
  const logged: { event: string; fields: Record<string, unknown> }[] = [];
  const r = await startRig(t, {
    images: true,
    devices: 1,
    gateway: { lwm2m: true, log: (event, fields) => logged.push({ event, fields }) },
  });
  const attached = new Promise<void>((resolve) => r.gw.gateway.events.on('attached', (id: string) => id === 'lw-1' && resolve()));
  const d = new Lwm2mDevice({ endpoint: 'lw-1', server: `coap://${r.gw.gateway.lwm2mAddress}` });
  await d.start();
  t.after(() => d.stop());
  await attached;
  d.firmware.faults.lostDownloads = lostDownloads;
  const call = async (method: string, path: string, body?: unknown, raw?: Buffer) => {
    const res = await fetch(r.api + path, {
      method,
      ...(raw
        ? { body: raw, headers: { 'content-type': 'application/octet-stream' } }
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  assert.equal((await call('POST', '/images?name=fw&version=2.0', undefined, bytes)).status, 201);
  const ready = r.srv.alertOf('imageready');
  assert.equal((await call('POST', `/gateways/${gid}/images`, { image: sha, name: 'fw2' })).status, 202);
  await ready;
  const done = r.srv.alertOf('resultaggregation', 60_000);
  const dist = await call('POST', `/gateways/${gid}/distributions`, { image: 'fw2', name: 'retry', devices: ['lw-1'], timeout: 60 });
  assert.equal(dist.status, 202, JSON.stringify(dist.json));
  const aggregate = String((await done).items[0]!.data);
  const exec = r.gw.gstore.listResults('retry.fumo').find((x) => x.deviceId === 'lw-1')!.commands[4];
  const retries = logged.filter((l) => l.event === 'lwm2m.firmware.retry').map((l) => l.fields);
  return { d, aggregate, exec, retries, served: r.gw.gateway.images.served };
}

test('a download the device reports lost is started again by the gateway; the device is updated once', async (t) => {
  const r = await rig(t, 1);
  assert.equal(r.aggregate, '<Aggregate total="1"><Status code="200" count="1"/></Aggregate>');
  assert.deepEqual(r.exec, { status: 200 });
  assert.deepEqual(r.d.firmware.installed, { sha256: sha, bytes: SIZE });
  assert.equal(r.d.firmware.lastRequests, 1, 'the new try went through in one connection');
  // the lost download's connections, then the one of the new try
  assert.equal(r.served.requests, PULL_ATTEMPTS + 1);
  assert.deepEqual(r.retries, [
    { endpoint: 'lw-1', try: 2, of: 3, backoffMs: 2000, reason: 'Update Result 4: connection lost during download' },
  ]);
});

test('a device whose every download is lost fails with Update Result 4 after the bounded tries, saying how many', async (t) => {
  const r = await rig(t, Number.POSITIVE_INFINITY);
  assert.equal(r.aggregate, '<Aggregate total="1"><Status code="503" count="1"><Device>lw-1</Device></Status></Aggregate>');
  const tries = LOST_DOWNLOAD_RETRIES + 1;
  assert.deepEqual(r.exec, { status: 503, data: `Update Result 4: connection lost during download (${tries} tries)`, format: 'chr' });
  assert.equal(r.served.requests, tries * PULL_ATTEMPTS, 'each try the gateway served, and no more');
  assert.equal(r.d.firmware.installed, undefined);
  assert.deepEqual(
    r.retries.map((x) => x.try),
    [2, 3],
  );
});
