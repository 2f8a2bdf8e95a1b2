// A gateway killed with SIGKILL at random points of the sessions that rotate its devices off the shared
// LAN server secret (GWMO_SECRET_KILLS rounds, 3 by default; GWMO_CRASH_SEED repeats a run): every
// device still answers the next fanout, and ends on a secret of its own. Without both secrets kept
// until the device proved one, a device that stored the new secret while the gateway died before
// storing its 200 would refuse the gateway's Cred and every Package#0 from then on.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { DmDevice } from '../../src/client/device.ts';
import { readAccounts } from '../../src/tree/index.ts';
import { crashRandom, gatewayArgs, Tripwire, imei, startFanout } from '../support/gateway-process.ts';
import { lanDevice, startServer } from '../support/gw-pair.ts';
import { freePort } from '../support/ports.ts';
import { GwmoProcess } from '../support/process.ts';

const KILLS = Number(process.env['GWMO_SECRET_KILLS'] ?? 3);
const PER_ROUND = 3;

test(`SIGKILL at ${KILLS} random points of secret rotations: every device answers the next fanout`, { timeout: 240_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-crash-secret-'));
  const srv = await startServer();
  const args = gatewayArgs(srv.url, await freePort(), dir);
  const random = crashRandom();
  // the kill fires as the n-th device message leaves: the device has acted on what came before
  // (a Replace of its secret, say), the gateway may never store its answer
  const http = new Tripwire({ retries: 0 });
  let gateway = new GwmoProcess(args);
  const devices: DmDevice[] = [];
  const get = [{ kind: 'Get' as const, cmdId: 1, items: [{ target: { locUri: './DevInfo/Mod' } }] }];
  try {
    const lan = String((await gateway.waitFor((l) => l.event === 'gateway.started'))['lan']);
    for (let k = 0; k < KILLS; k++) {
      // new devices on the shared secret: their first session enrols them and rotates it
      const round = Array.from(
        { length: PER_ROUND },
        (_, i) => new DmDevice(lanDevice(lan, imei(k * PER_ROUND + i)), undefined, undefined, http),
      );
      for (const d of round) await d.start();
      devices.push(...round);
      const killed = http.arm(1 + Math.floor(random() * 3 * PER_ROUND));
      const broken = new Set<DmDevice>();
      const sessions = (async () => {
        for (const d of round) {
          const r = await d.session().catch(() => undefined);
          if (r?.end !== 'done') broken.add(d);
        }
      })();
      await Promise.race([killed, sessions]);
      http.disarm();
      const dead = once(gateway.child, 'exit');
      gateway.child.kill('SIGKILL');
      await dead;
      await sessions;
      gateway = new GwmoProcess(args);
      await gateway.waitFor((l) => l.event === 'north.session');
      // a device whose session broke checks in again, as devices do
      for (const d of broken) assert.equal((await d.session()).end, 'done', 'a check-in after the restart');
      const ids = devices.map((_, i) => imei(i));
      const next = await startFanout(srv, `next${k}`, ids, get, { Timeout: '10', Retries: '0' });
      const alert = await srv.alertOf('resultaggregation', 30_000, next);
      assert.equal(
        alert.items[0]!.data,
        `<Aggregate total="${ids.length}"><Status code="200" count="${ids.length}"/></Aggregate>`,
        `the fanout after kill ${k}`,
      );
    }
    // and each holds a secret of its own by now (the fanout's session finished what a kill cut)
    const held = devices.map((d) => readAccounts(d.tree).find((a) => a.serverId === 'gwmo-gateway')!.server!.secret);
    assert.ok(
      held.every((s) => s !== 'lan-srv-pw'),
      'rotated off the shared secret',
    );
    assert.equal(new Set(held).size, held.length, 'all different');
  } finally {
    for (const d of devices) await d.stop();
    http.close();
    await gateway.stop();
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  }
});
