// A gateway killed with SIGKILL at random points of its devices' sessions, many times: every device
// still answers the next fanout. A device that stored the nonce it issued for the gateway's Cred
// while the gateway died before storing it verifies no Package#0 keyed with the old one; the gateway
// falls back to the resynchronisation nonce (DM 1.2.1, digest §6.4).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import type { DmDevice } from '../../src/client/device.ts';
import { gatewayArgs, imei, startFanout } from '../support/gateway-process.ts';
import { startDevices, startServer } from '../support/gw-pair.ts';
import { freePort } from '../support/ports.ts';
import { GwmoProcess } from '../support/process.ts';

const KILLS = Number(process.env['GWMO_CRASH_KILLS'] ?? 10);
const DEVICES = 6;

test(`SIGKILL at ${KILLS} random points of device sessions: every device answers the next fanout`, { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-crash-nonce-'));
  const srv = await startServer();
  const args = gatewayArgs(srv.url, await freePort(), dir);
  let seed = Number(process.env['GWMO_CRASH_SEED'] ?? Date.now() % 100_000);
  console.log(`seed ${seed}`);
  const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  let gateway = new GwmoProcess(args);
  let devices: DmDevice[] = [];
  const get = [{ kind: 'Get' as const, cmdId: 1, items: [{ target: { locUri: './DevInfo/Mod' } }] }];
  try {
    const started = await gateway.waitFor((l) => l.event === 'gateway.started');
    devices = await startDevices(String(started['lan']), DEVICES);
    await gateway.waitFor((l) => l.event === 'north.session');
    for (let k = 0; k < KILLS; k++) {
      // every device in a session (and the next one) when the gateway dies
      const sessions = devices.map(async (d) => {
        for (let i = 0; i < 3; i++) if ((await d.session()).end === 'error') return;
      });
      await new Promise((resolve) => setTimeout(resolve, 5 + random() * 120));
      gateway.child.kill('SIGKILL');
      await new Promise((resolve) => gateway.child.once('exit', resolve));
      // back at once: the devices' retries of the cut sessions may reach the new process
      gateway = new GwmoProcess(args);
      await Promise.all(sessions);
      // its own session with the server first: the kills are for the devices' sessions
      await gateway.waitFor((l) => l.event === 'north.session');
    }
    const correlator = await startFanout(
      srv,
      'after',
      devices.map((_, i) => imei(i)),
      get,
      { Timeout: '15', Retries: '0' },
    );
    const alert = await srv.alertOf('resultaggregation', 30_000);
    assert.equal(alert.correlator, correlator);
    assert.equal(alert.items[0]!.data, `<Aggregate total="${DEVICES}"><Status code="200" count="${DEVICES}"/></Aggregate>`);
  } finally {
    for (const d of devices) await d.stop();
    await gateway.stop();
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  }
});
