// A distribution shows each device's download as it goes: a real server, gateway and simulated FUMO
// device whose download is held mid-way; the device's event says `downloading` with the bytes the
// gateway has served it, then `succeeded`.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';

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

test('a FUMO device held mid-download shows as downloading with bytes > 0 and < size in the events and the API, then succeeded', async (t) => {
  const r = await startRig(t, { images: true, devices: 1 });
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

  const started = await call('POST', `/gateways/${gid}/distributions`, {
    image: 'fw2',
    name: 'held',
    object: 'fumo',
    devices: [dm(0)],
  });
  assert.equal(started.status, 202, JSON.stringify(started.json));
  const res = await fetch(`${r.api}/distributions/held/events`);
  const seen: any[] = [];
  let done: any;
  const follow = (async () => {
    for await (const e of events(res)) {
      if (e === 'heartbeat') continue;
      if (e.event === 'device') {
        const row = JSON.parse(e.data);
        seen.push(row);
        // while held: the API says the same as the event, and only then is the device let go
        if (row.state === 'downloading' && seen.filter((x) => x.state === 'downloading').length === 1) {
          const got = await call('GET', '/distributions/held');
          const d = got.json.devices.find((x: any) => x.deviceId === dm(0));
          assert.equal(d.state, 'downloading');
          assert.equal(d.size, SIZE);
          assert.ok(d.bytes > 0 && d.bytes < SIZE, `${d.bytes} bytes in the API`);
          assert.equal(got.json.summary.byState.downloading, 1);
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

  const downloading = seen.filter((x) => x.state === 'downloading');

  assert.ok(downloading.length >= 1, `events: ${JSON.stringify(seen.map((x) => [x.state, x.bytes]))}`);
  const first = downloading[0]!;
  assert.equal(first.size, SIZE);
  assert.ok(first.bytes > 0 && first.bytes < SIZE, `${first.bytes} of ${SIZE} bytes while held`);
  const end = done.devices.find((x: any) => x.deviceId === dm(0));
  assert.deepEqual([end.state, end.resultCode, end.bytes, end.size], ['succeeded', 200, SIZE, SIZE]);
  assert.equal(seen.at(-1).state, 'succeeded');
  assert.equal(r.devices[0]!.fumo.installed?.sha256, sha);
});
