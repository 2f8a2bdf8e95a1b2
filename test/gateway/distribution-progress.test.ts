// A distribution shows each device's download as it goes: a real server, gateway and simulated FUMO
// and LwM2M devices whose downloads are held mid-way; the device's event says `downloading` with the bytes the
// gateway has served it, then `succeeded`.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';

import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { GW_ID, startRig } from '../support/gw-pair.ts';
import { events } from '../support/sse.ts';

// larger than what loopback socket buffers take in while the device does not read
const SIZE = 16 * 1024 * 1024;
const bytes = randomBytes(SIZE);
const sha = createHash('sha256').update(bytes).digest('hex');
const gid = encodeURIComponent(GW_ID);
const dm = (i: number) => `IMEI:${String(i).padStart(15, '0')}`;

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

test('a FUMO and an LwM2M device held mid-download show as downloading with bytes > 0 and < size in the events and the API, then succeeded', async (t) => {
  const r = await startRig(t, { images: true, devices: 1, gateway: { lwm2m: true } });
  const attached = new Promise<void>((resolve) => {
    const on = (id: string): void => {
      if (id !== 'lw-0') return;
      r.gw.gateway.events.off('attached', on);
      resolve();
    };
    r.gw.gateway.events.on('attached', on);
  });
  const lw = new Lwm2mDevice({ endpoint: 'lw-0', server: `coap://${r.gw.gateway.lwm2mAddress}` });
  await lw.start();
  t.after(() => lw.stop());
  await attached;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(r.api + path, {
      method,
      ...(body instanceof Buffer
        ? { body, headers: { 'content-type': 'application/octet-stream' } }
        : body
          ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
          : {}),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  assert.equal((await call('POST', '/images?name=fw&version=2.0', bytes)).status, 201);
  const ready = r.srv.alertOf('imageready', 30_000);
  assert.equal((await call('POST', `/gateways/${gid}/images`, { image: sha, name: 'fw2' })).status, 202);
  await ready;

  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  t.after(() => release());
  r.devices[0]!.updateFaults.holdAfter = { bytes: 512 * 1024, release: released };
  lw.firmware.faults.holdAfter = { bytes: 512 * 1024, release: released };
  const ids = [dm(0), 'lw-0'];

  const started = await call('POST', `/gateways/${gid}/distributions`, { image: 'fw2', name: 'held', object: 'fumo', devices: ids });
  assert.equal(started.status, 202, JSON.stringify(started.json));
  const res = await fetch(`${r.api}/distributions/held/events`);
  const seen: any[] = [];
  let done: any;
  const follow = (async () => {
    const moving = new Set<string>();
    let letGo = false;
    for await (const e of events(res)) {
      if (e === 'heartbeat') continue;
      if (e.event === 'device') {
        const row = JSON.parse(e.data);
        seen.push(row);
        if (row.state === 'downloading') moving.add(row.deviceId);
        // both held: the API says what the events said, and only then are the devices let go
        if (moving.size === 2 && !letGo) {
          letGo = true;
          const got = await call('GET', '/distributions/held');
          for (const id of ids) {
            const d = got.json.devices.find((x: any) => x.deviceId === id);
            assert.equal(d.state, 'downloading', id);
            assert.equal(d.size, SIZE, id);
            assert.ok(d.bytes > 0 && d.bytes < SIZE, `${id}: ${d.bytes} bytes in the API`);
          }
          assert.equal(got.json.summary.byState.downloading, 2);
          release();
        }
      }
      if (e.event === 'done') {
        done = JSON.parse(e.data);
        return;
      }
    }
  })();
  await within(follow, 60_000, 'the distribution to end');

  for (const id of ids) {
    const mine = seen.filter((x) => x.deviceId === id);
    const first = mine.find((x) => x.state === 'downloading');
    assert.ok(first, `${id}: ${JSON.stringify(mine.map((x) => [x.state, x.bytes]))}`);
    assert.equal(first.size, SIZE);
    assert.ok(first.bytes > 0 && first.bytes < SIZE, `${id}: ${first.bytes} of ${SIZE} bytes while held`);
    assert.equal(mine.at(-1).state, 'succeeded', id);
  }
  const end = Object.fromEntries(done.devices.map((x: any) => [x.deviceId, [x.state, x.resultCode, x.bytes, x.size]]));
  assert.deepEqual(end, { [dm(0)]: ['succeeded', 200, SIZE, SIZE], 'lw-0': ['succeeded', 1, SIZE, SIZE] });
  assert.equal(r.devices[0]!.fumo.installed?.sha256, sha);
  assert.deepEqual(lw.firmware.installed, { sha256: sha, bytes: SIZE });
});
