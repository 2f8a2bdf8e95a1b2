// The coaps:// listener takes its keys from what the DM server provisioned through the API, and a
// rotation works over DTLS: the old key gets in until the device completed a handshake with the
// new one; then the old key's associations end and it is refused.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';

import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { connectDtls } from '../../src/transport/dtls/index.ts';
import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';

const KEY = '00112233445566778899aabbccddeeff';
const KEY2 = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';

async function rig(t: { after(fn: () => Promise<void> | void): void }) {
  const lines: string[] = [];
  const srv = await startServer();
  t.after(() => srv.close());
  const gw = await startGateway(srv.url, {
    lwm2mDtls: true,
    log: (event, fields) => void lines.push(JSON.stringify({ event, ...fields })),
  });
  t.after(() => gw.close());
  await gw.gateway.checkIn();
  const api = srv.url.replace(/\/dm$/, '/api');
  const put = async (body: Record<string, string>): Promise<void> => {
    const r = await fetch(`${api}/devices/meter-9/lwm2m-credentials`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gateway: GW_ID, ...body }),
    });
    assert.equal(r.status, 200, await r.text());
  };
  const rotating = async (): Promise<boolean> => {
    const r = await fetch(`${api}/devices/meter-9/lwm2m-credentials?gateway=${encodeURIComponent(GW_ID)}`);
    return ((await r.json()) as { rotating: boolean }).rotating;
  };
  const [host, port] = gw.gateway.lwm2mSecureAddress!.split(':') as [string, string];
  /** a simulated device registering over coaps:// with this key; stopped with the test */
  const device = async (key: string): Promise<Lwm2mDevice> => {
    const dev = new Lwm2mDevice({
      endpoint: 'meter-9',
      server: `coaps://${gw.gateway.lwm2mSecureAddress}`,
      psk: { identity: 'meter-9', key: Buffer.from(key, 'hex') },
    });
    t.after(() => dev.stop());
    const registered = once(gw.gateway.lwm2m!, 'registered', { signal: AbortSignal.timeout(10_000) });
    await dev.start();
    await registered;
    return dev;
  };
  const refused = (key: string): Promise<unknown> =>
    assert.rejects(connectDtls({ host, port: Number(port), psk: { identity: 'meter-9', key: Buffer.from(key, 'hex') } }));
  return { gw, lines, put, rotating, device, refused };
}

test('PUT lwm2m-credentials → the gateway session → the device registers over coaps:// with that key; another key is refused', async (t) => {
  const r = await rig(t);
  await r.refused(KEY); // nothing provisioned yet
  await r.put({ identity: 'meter-9', key: KEY });
  await r.device(KEY);
  assert.equal(r.gw.gateway.lwm2m!.registration('meter-9')?.identity, 'meter-9');
  await r.refused(KEY2);
  assert.ok(r.lines.some((l) => l.includes('"event":"lwm2m.dtls.failed"')));
  for (const key of [KEY, KEY2]) assert.ok(!r.lines.join('\n').includes(key), 'a key in the log');
});

test('rotation over DTLS: the old key works until the device used the new one, then its association ends and it is refused', async (t) => {
  const r = await rig(t);
  await r.put({ identity: 'meter-9', key: KEY });
  const old = await r.device(KEY);
  await r.put({ identity: 'meter-9', key: KEY2 });
  assert.equal(await r.rotating(), true);
  // a device that has not heard of the new key yet still gets in, and that changes nothing
  await old.stop();
  const stillOld = await r.device(KEY);
  assert.equal(await r.rotating(), true);
  const ended = once(stillOld.dtls!, 'close', { signal: AbortSignal.timeout(10_000) });
  await r.device(KEY2);
  await ended; // forget(): what ran on the old key ends
  assert.equal(await r.rotating(), false);
  assert.ok(r.lines.some((l) => l.includes('"event":"lwm2m.credentials.rotated"')));
  await r.refused(KEY);
});
