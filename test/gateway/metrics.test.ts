// The gateway's /metrics while a fanout waits on a silent device, and image bytes on both sides.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';

import { GW_ID, startRig } from '../support/gw-pair.ts';
import { scrape } from '../support/metrics.ts';

const metricsOf = (dmUrl: string): string => dmUrl.replace(/\/dm$/, '/metrics');
const id = (i: number): string => `IMEI:${String(i).padStart(15, '0')}`;

test('a running fanout shows as running with its devices done and total', async (t) => {
  const { srv, gw, devices } = await startRig(t, { devices: 3 });
  await devices[2]!.stop(); // silent: the job waits for it until its timeout
  const twoDone = new Promise<void>((resolve) =>
    gw.gateway.events.on('progress', (job: string, done: number) => job === 'slow' && done === 2 && resolve()),
  );
  await srv.server.gateways.startFanout(
    GW_ID,
    { name: 'slow', devices: [id(0), id(1), id(2)], commands: [{ kind: 'Get', path: './DevInfo/Mod' }] },
    10_000,
  );
  await twoDone;
  const g = await scrape(metricsOf(gw.gateway.lanUrl));
  assert.equal(g('gwmo_fanout_jobs_running', { gateway: GW_ID }), 1);
  assert.equal(g('gwmo_fanout_jobs', { gateway: GW_ID, state: 'running' }), 1);
  assert.equal(g('gwmo_fanout_devices_done', { gateway: GW_ID, job: 'slow' }), 2);
  assert.equal(g('gwmo_fanout_devices_total', { gateway: GW_ID, job: 'slow' }), 3);
});

test('image bytes served are counted by the server (to the gateway) and by the gateway (to devices)', async (t) => {
  const { srv, gw } = await startRig(t, { images: true });
  const bytes = randomBytes(100_000);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const api = srv.url.replace(/\/dm$/, '/api');
  const up = await fetch(`${api}/images?name=fw&version=1`, {
    method: 'POST',
    body: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(up.status, 201);
  const ready = srv.alertOf('imageready');
  const staged = await fetch(`${api}/gateways/${encodeURIComponent(GW_ID)}/images`, {
    method: 'POST',
    body: JSON.stringify({ image: sha, name: 'fw' }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(staged.status, 202);
  await ready;
  const img = await fetch(gw.gateway.images.link(sha));
  assert.equal((await img.arrayBuffer()).byteLength, bytes.length);

  const s = await scrape(metricsOf(srv.url));
  assert.equal(s('gwmo_image_bytes_served_total', { role: 'server' }), bytes.length);
  const g = await scrape(metricsOf(gw.gateway.lanUrl));
  assert.equal(g('gwmo_image_bytes_served_total', { gateway: GW_ID, role: 'gateway' }), bytes.length);
  assert.equal(g('gwmo_image_requests_total', { gateway: GW_ID, role: 'gateway' }), 1);
});
