// A gateway killed with SIGKILL in the middle of a fanout, then restarted on the same data, finishes
// the job: every device ends with exactly one result. An Exec whose session the kill cut may have run:
// it is in doubt (issue 22), never run a second time.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import type { DmDevice } from '../../src/client/device.ts';
import { gatewayArgs, imei, startFanout } from '../support/gateway-process.ts';
import { GwmoProcess } from '../support/process.ts';
import { GW_ID, startDevices, startServer } from '../support/gw-pair.ts';
import { freePort } from '../support/ports.ts';

test('SIGKILL mid-fanout and restart: the job completes with one result per device', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-crash-'));
  const srv = await startServer();
  const args = gatewayArgs(srv.url, await freePort(), dir);
  let gateway = new GwmoProcess(args);
  let devices: DmDevice[] = [];
  try {
    const started = await gateway.waitFor((l) => l.event === 'gateway.started');
    await gateway.waitFor((l) => l.event === 'north.session');
    devices = await startDevices(String(started['lan']), 20);
    let runs = 0;
    const runsOf = new Map<string, number>();
    // a slow operation on every device, so the job is still running when the gateway dies
    devices.forEach((d, i) => {
      d.tree.define('./Vendor/Slow', { format: 'node' });
      d.tree.onExec(
        './Vendor/Slow',
        () => new Promise((resolve) => setTimeout(() => (runs++, runsOf.set(imei(i), (runsOf.get(imei(i)) ?? 0) + 1), resolve(200)), 150)),
      );
    });
    const correlator = await startFanout(
      srv,
      'slow',
      devices.map((_, i) => imei(i)),
      [{ kind: 'Exec', cmdId: 1, item: { target: { locUri: './Vendor/Slow' } } }],
      { Concurrency: '2' },
    );

    await gateway.waitFor((l) => l.event === 'fanout.progress' && Number(l['done']) >= 4);
    gateway.child.kill('SIGKILL');
    await new Promise((resolve) => gateway.child.once('exit', resolve));
    const doneBefore = runs;
    assert.ok(doneBefore < 20, `the job was still running (${doneBefore} devices done)`);

    const aggregated = srv.alertOf('resultaggregation', 30_000);
    gateway = new GwmoProcess(args);
    const alert = await aggregated;
    const data = String(alert.items[0]!.data);
    // the sessions in flight at the kill (Concurrency 2) are in doubt; every other device answered 200
    const inDoubt = [...(/<InDoubt count="\d+">(.*?)<\/InDoubt>/.exec(data)?.[1] ?? '').matchAll(/<Device>(.*?)<\/Device>/g)].map(
      (m) => m[1]!,
    );
    assert.ok(inDoubt.length <= 2, data);
    assert.match(data, new RegExp(`^<Aggregate total="20"><Status code="200" count="${20 - inDoubt.length}"/>`));
    for (const [device, n] of runsOf) assert.equal(n, 1, `${device} ran the Exec ${n} times`);
    for (let i = 0; i < 20; i++) if (!inDoubt.includes(imei(i))) assert.equal(runsOf.get(imei(i)), 1, `${imei(i)} answered 200`);
    assert.equal(alert.correlator, correlator);

    const results = await srv.server.service.queue(GW_ID, { kind: 'Get', path: './GwMO/Fanout/slow/Results?list=StructData' });
    await srv.server.service.notify(GW_ID);
    const [read] = await srv.server.service.settle([results.id], 20_000);
    const ids = read!.results!.filter((r) => r.uri.endsWith('/DeviceID')).map((r) => r.data);
    assert.equal(ids.length, 20);
    assert.equal(new Set(ids).size, 20, 'one result per device, none twice');
  } finally {
    for (const d of devices) await d.stop();
    await gateway.stop();
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  }
});
