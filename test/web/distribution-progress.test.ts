// The distribution page in real Chromium while a device downloads: its row reads "downloading
// x.x / 16.8 MB" (the bytes the gateway served it) while the simulated device is held mid-way,
// then "succeeded".
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';

import { launchChromium, logIn } from '../support/chromium.ts';
import { GW_ID, startDevices } from '../support/gw-pair.ts';
import { ADMIN_PASSWORD, startSecuredRig } from '../support/secured-rig.ts';

const T = 30_000;
// larger than what loopback socket buffers take in while the device does not read
const SIZE = 16 * 1024 * 1024;
const bytes = randomBytes(SIZE);
const sha = createHash('sha256').update(bytes).digest('hex');
const DEVICE = 'IMEI:000000000000000'; // startDevices' first

test("the distribution page shows a held device's download as downloading x.x / 16.8 MB, then succeeded", async (t) => {
  const { call, base, srv, gw } = await startSecuredRig(t);
  const [device] = await startDevices(gw.gateway.lanUrl, 1);
  t.after(() => device!.stop());
  await gw.gateway.checkIn();
  const up = await call('operator', 'POST', '/images?name=fw&version=2.0', undefined, { bytes, type: 'application/octet-stream' });
  assert.equal(up.status, 201);
  const ready = srv.alertOf('imageready', T);
  assert.equal((await call('operator', 'POST', `/gateways/${encodeURIComponent(GW_ID)}/images`, { image: sha, name: 'fw2' })).status, 202);
  await ready;

  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  t.after(() => release());
  device!.updateFaults.holdAfter = { bytes: 512 * 1024, release: released };
  const started = await call('operator', 'POST', `/gateways/${encodeURIComponent(GW_ID)}/distributions`, {
    image: 'fw2',
    name: 'held',
    object: 'fumo',
    devices: [DEVICE],
  });
  assert.equal(started.status, 202, JSON.stringify(started.json));

  const browser = await launchChromium();
  t.after(() => browser.close());
  const p = await (await browser.newContext()).newPage();
  p.setDefaultTimeout(T);
  await logIn(p, base, 'admin', ADMIN_PASSWORD);
  await p.getByRole('navigation', { name: 'Main' }).waitFor();
  await p.goto(`${base}/#/distributions/held`);
  const state = p.locator(`tr[data-device="${DEVICE}"] td.state`);
  await state.filter({ hasText: /^downloading/ }).waitFor();
  const text = await state.innerText();
  const m = /^downloading (\d+\.\d) \/ 16\.8 MB$/.exec(text);
  assert.ok(m, text);
  assert.ok(Number(m[1]) > 0 && Number(m[1]) < 16.8, text);
  release();
  await state.filter({ hasText: /^succeeded$/ }).waitFor();
  await p.locator('p.state[data-state="done"]').waitFor();
});
