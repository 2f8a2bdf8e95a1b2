// A server, a gateway and DM devices with an image staged on the gateway as `fw2`, and a wait
// on a campaign's row (campaign tests: test/gateway/campaigns.test.ts, test/cli/campaign.test.ts).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';

import type { DmDevice } from '../../src/client/device.ts';
import type { CampaignRow } from '../../src/store/server.ts';
import { GW_ID, startDevices, startGateway, startRig } from './gw-pair.ts';
import type { Instance } from './instance.ts';
import { AUTH } from './process.ts';

export const SIZE = 50_000;
const bytes = randomBytes(SIZE);
export const sha = createHash('sha256').update(bytes).digest('hex');

export async function rig(t: Parameters<typeof startRig>[0], n: number, gateway?: Parameters<typeof startGateway>[1]) {
  const r = await startRig(t, { images: true, devices: n, ...(gateway ? { gateway } : {}) });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(r.api + path, {
      method,
      ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
  };
  const up = await fetch(`${r.api}/images?name=fw&version=2.0`, {
    method: 'POST',
    body: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(up.status, 201);
  const ready = r.srv.alertOf('imageready');
  assert.equal((await call('POST', `/gateways/${encodeURIComponent(GW_ID)}/images`, { image: sha, name: 'fw2' })).status, 202);
  await ready;
  const campaigns = r.srv.server.campaigns;
  /** the campaign once `ok` holds for its row (checked now and on each change) */
  const until = (id: string, ok: (c: CampaignRow) => boolean, ms = 30_000) =>
    new Promise<CampaignRow>((resolve, reject) => {
      const timer = setTimeout(() => {
        campaigns.events.off('change', check);
        reject(new Error(`campaign ${id} did not get there within ${ms} ms`));
      }, ms);
      const check = async (changed?: string) => {
        if (changed !== undefined && changed !== id) return;
        const c = await r.srv.store.getCampaign(id);
        if (c && ok(c)) {
          clearTimeout(timer);
          campaigns.events.off('change', check);
          resolve(c);
        }
      };
      campaigns.events.on('change', check);
      void check();
    });
  return { ...r, call, until };
}

/** How many times each device installed (FUMO): the crash tests check no device installs twice. */
export function countInstalls(devices: readonly DmDevice[]): number[] {
  const installs = devices.map(() => 0);
  devices.forEach((d, i) => {
    let value = d.fumo.installed;
    Object.defineProperty(d.fumo, 'installed', {
      get: () => value,
      set: (v) => {
        if (v) installs[i]!++;
        value = v;
      },
    });
  });
  return installs;
}

/**
 * The crash tests' start, against a real `gwmo server`: the gateway's account, a gateway with `n` DM
 * devices counting their installs, and `image` staged on it as `fw2` (stopped again if that fails).
 */
export async function gatewayWithFirmware(
  srv: Instance,
  dir: string,
  n: number,
  image: { readonly bytes: Uint8Array; readonly sha: string },
) {
  const account = { deviceId: GW_ID, name: 'gw', password: 'gw-pw', serverName: 'srv', serverPassword: 'srv-pw', scheme: 'md5' };
  assert.equal((await srv.call('POST', '/devices', account)).status, 201);
  let ready: () => void = () => {};
  const staged = new Promise<void>((resolve) => (ready = resolve));
  const gw = await startGateway(srv.dm, {
    imageDir: join(dir, 'gw-images'),
    log: (event, f) => {
      if (event === 'alert.queued' && String(f['type']).includes('imageready')) ready();
    },
  });
  let devices: DmDevice[] = [];
  try {
    devices = await startDevices(gw.gateway.lanUrl, n);
    const installs = countInstalls(devices);
    await gw.gateway.checkIn();
    const up = await fetch(`${srv.api}/images?name=fw&version=2.0`, {
      method: 'POST',
      body: image.bytes,
      headers: { ...AUTH, 'content-type': 'application/octet-stream' },
    });
    assert.equal(up.status, 201);
    assert.equal((await srv.call('POST', `/gateways/${encodeURIComponent(GW_ID)}/images`, { image: image.sha, name: 'fw2' })).status, 202);
    await staged;
    return { gw, devices, installs };
  } catch (err) {
    for (const d of devices) await d.stop();
    await gw.close();
    throw err;
  }
}
