// A campaign followed as server-sent events: the snapshot, each device's row as its batch reads
// it, the campaign at each change, and `done` with every device's result, after which the stream
// ends; an unknown campaign is a 404 before any stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { rig } from '../support/campaign-rig.ts';
import { GW_ID } from '../support/gw-pair.ts';
import { events } from '../support/sse.ts';

const dm = (i: number) => `IMEI:${String(i).padStart(15, '0')}`;

test('a campaign as server-sent events: snapshot, devices, waves, done', { timeout: 90_000 }, async (t) => {
  const r = await rig(t, 3);
  await r.devices[0]!.stop(); // the canary waits for it: the stream opens on a running campaign
  const created = await r.call('POST', '/campaigns', {
    name: 'live',
    gateway: GW_ID,
    image: 'fw2',
    object: 'fumo',
    devices: [0, 1, 2].map(dm),
    canary: { count: 1 },
    waves: 1,
    timeout: 60,
  });
  assert.equal(created.status, 201, created.text);
  const res = await fetch(`${r.api}/campaigns/live/events`, { signal: AbortSignal.timeout(60_000) });
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const seen: { event: string; data: any }[] = [];
  let back = false;
  for await (const e of events(res)) {
    if (e === 'heartbeat') continue;
    seen.push({ event: e.event, data: JSON.parse(e.data) });
    if (!back) {
      back = true; // after the snapshot: the canary's device comes back
      await r.devices[0]!.start();
      await r.devices[0]!.session();
    }
  }
  const snapshot = seen[0]!;
  assert.equal(snapshot.event, 'snapshot');
  assert.equal(snapshot.data.state, 'running');
  assert.deepEqual(
    snapshot.data.results.map((d: any) => [d.deviceId, d.state]),
    [
      [dm(0), 'sent'],
      [dm(1), 'pending'],
      [dm(2), 'pending'],
    ],
  );
  const done = seen[seen.length - 1]!;
  assert.equal(done.event, 'done');
  assert.equal(done.data.state, 'done');
  assert.deepEqual(
    done.data.results.map((d: any) => [d.deviceId, d.state, d.resultCode]),
    [0, 1, 2].map((i) => [dm(i), 'succeeded', 200]),
  );
  // each device's end came as it was read, and the campaign moved on wave by wave
  const ends = seen.filter((e) => e.event === 'device' && e.data.state === 'succeeded').map((e) => e.data.deviceId);
  assert.deepEqual(ends.sort(), [0, 1, 2].map(dm));
  const waves = seen.filter((e) => e.event === 'campaign').map((e) => e.data.wave);
  assert.ok(waves.includes(1), `a campaign event for wave 1: ${JSON.stringify(waves)}`);
  assert.ok(
    seen.every((e) => e.event !== 'campaign' || e.data.results === undefined),
    'campaign events leave the device list out',
  );
  // a finished campaign: its snapshot and done at once; an unknown one: a 404 as JSON
  const again = await fetch(`${r.api}/campaigns/live/events`);
  const quick: string[] = [];
  for await (const e of events(again)) if (e !== 'heartbeat') quick.push(e.event);
  assert.deepEqual(quick, ['snapshot', 'done']);
  const none = await r.call('GET', '/campaigns/nope/events');
  assert.equal(none.status, 404);
  assert.match(none.json.error, /no campaign "nope"/);
});
