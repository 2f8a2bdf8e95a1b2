// A gateway killed with SIGKILL at random points of its devices' sessions (during a fanout), several
// times (GWMO_CRASH_KILLS, 4 by default; GWMO_CRASH_SEED repeats a run): every device answers the
// next fanout. Without the fallback below, the devices whose session was cut answer 408 from then on. A device that stored the nonce it issued for the gateway's Cred
// while the gateway died before storing it verifies no Package#0 keyed with the old one; the gateway
// falls back to the resynchronisation nonce (DM 1.2.1, digest §6.4).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { test } from 'node:test';

import { DmDevice } from '../../src/client/device.ts';
import { crashRandom, gatewayArgs, Tripwire, imei, startFanout } from '../support/gateway-process.ts';
import { lanDevice, startServer } from '../support/gw-pair.ts';
import { freePort } from '../support/ports.ts';
import { GwmoProcess } from '../support/process.ts';

const KILLS = Number(process.env['GWMO_CRASH_KILLS'] ?? 4);
const DEVICES = 6;

test(`SIGKILL at ${KILLS} random points of device sessions: every device answers the next fanout`, { timeout: 240_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-crash-nonce-'));
  const srv = await startServer();
  const args = gatewayArgs(srv.url, await freePort(), dir);
  const random = crashRandom();
  // the devices' messages go through one client that fires the kill as the n-th message of a fanout
  // leaves: the device has stored what it sent (in its second message of a session, the new nonce
  // for the gateway's Cred), the gateway may never handle it
  const http = new Tripwire({ retries: 0 });
  let gateway = new GwmoProcess(args);
  let devices: DmDevice[] = [];
  const get = [{ kind: 'Get' as const, cmdId: 1, items: [{ target: { locUri: './DevInfo/Mod' } }] }];
  try {
    const started = await gateway.waitFor((l) => l.event === 'gateway.started');
    const lan = String(started['lan']);
    devices = Array.from({ length: DEVICES }, (_, i) => new DmDevice(lanDevice(lan, imei(i)), undefined, undefined, http));
    for (const d of devices) await d.start();
    for (const d of devices) assert.equal((await d.session()).end, 'done');
    await gateway.waitFor((l) => l.event === 'north.session');
    const ids = devices.map((_, i) => imei(i));
    for (let k = 0; k < KILLS; k++) {
      // a fanout, and the gateway killed as the n-th of its devices' messages leaves
      const killed = http.arm(1 + Math.floor(random() * 2 * DEVICES));
      const cut = await startFanout(srv, `cut${k}`, ids, get, { Timeout: '10', Retries: '0' });
      await Promise.race([killed, srv.alertOf('resultaggregation', 30_000, cut)]);
      http.disarm();
      const dead = once(gateway.child, 'exit');
      gateway.child.kill('SIGKILL');
      await dead;
      gateway = new GwmoProcess(args);
      await gateway.waitFor((l) => l.event === 'north.session');
      // the next fanout reaches every device (Package#0, then the device's session), first time
      const next = await startFanout(srv, `next${k}`, ids, get, { Timeout: '10', Retries: '0' });
      const alert = await srv.alertOf('resultaggregation', 30_000, next);
      assert.equal(
        alert.items[0]!.data,
        `<Aggregate total="${DEVICES}"><Status code="200" count="${DEVICES}"/></Aggregate>`,
        `the fanout after kill ${k}`,
      );
    }
  } finally {
    for (const d of devices) await d.stop();
    http.close();
    await gateway.stop();
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  }
});
