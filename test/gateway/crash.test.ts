// A gateway killed with SIGKILL in the middle of a fanout, then restarted on the same data, finishes
// the job: every device ends with exactly one result.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import type { DmDevice } from '../../src/client/device.ts';
import { encodeFragment } from '../../src/protocol/index.ts';
import { GwmoProcess } from '../support/process.ts';
import { GW_ID, startDevices, startServer } from '../support/gw-pair.ts';
import { freePort } from '../support/ports.ts';

test('SIGKILL mid-fanout and restart: the job completes with one result per device', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-crash-'));
  const srv = await startServer();
  const lanPort = await freePort();
  const args = [
    'gateway',
    '--device-id',
    GW_ID,
    '--server-url',
    srv.url,
    '--server-id',
    'srv',
    '--username',
    'gw',
    '--password',
    'gw-pw',
    '--server-password',
    'srv-pw',
    '--lan-port',
    String(lanPort),
    '--device-password',
    'lan-pw',
    '--lan-server-password',
    'lan-srv-pw',
    '--check-in',
    '0',
    '--lwm2m-port',
    '0',
    '--data-dir',
    dir,
  ];
  let gateway = new GwmoProcess(args);
  let devices: DmDevice[] = [];
  try {
    const started = await gateway.waitFor((l) => l.event === 'gateway.started');
    await gateway.waitFor((l) => l.event === 'north.session');
    devices = await startDevices(String(started['lan']), 20);
    let runs = 0;
    // a slow operation on every device, so the job is still running when the gateway dies
    for (const d of devices) {
      d.tree.define('./Vendor/Slow', { format: 'node' });
      d.tree.onExec('./Vendor/Slow', () => new Promise((resolve) => setTimeout(() => (runs++, resolve(200)), 150)));
    }
    const commands = encodeFragment([{ kind: 'Exec', cmdId: 1, item: { target: { locUri: './Vendor/Slow' } } }]);
    const ops = await Promise.all(
      [
        { kind: 'Add' as const, path: './GwMO/Fanout/slow', format: 'node' },
        { kind: 'Add' as const, path: './GwMO/Fanout/slow/Commands', value: commands, format: 'xml' },
        { kind: 'Add' as const, path: './GwMO/Fanout/slow/Options/Concurrency', value: '2', format: 'int' },
        ...devices.map((_, i) => ({
          kind: 'Add' as const,
          path: `./GwMO/Fanout/slow/Targets/${i}`,
          value: `./GwMO/DevInventory/Devices/IMEI:${String(i).padStart(15, '0')}`,
        })),
        { kind: 'Exec' as const, path: './GwMO/Fanout/slow/Operations/Start' },
      ].map((o) => srv.server.service.queue(GW_ID, o)),
    );
    // wait on the operation, not the next session: deviceattached alerts open sessions of their own
    await srv.server.service.notify(GW_ID);
    const [start] = await srv.server.service.settle([ops[ops.length - 1]!.id], 20_000);
    assert.equal(start!.status, 202);

    await gateway.waitFor((l) => l.event === 'fanout.progress' && Number(l['done']) >= 4);
    gateway.child.kill('SIGKILL');
    await new Promise((resolve) => gateway.child.once('exit', resolve));
    const doneBefore = runs;
    assert.ok(doneBefore < 20, `the job was still running (${doneBefore} devices done)`);

    const aggregated = srv.alertOf('resultaggregation', 30_000);
    gateway = new GwmoProcess(args);
    const alert = await aggregated;
    assert.equal(alert.items[0]!.data, '<Aggregate total="20"><Status code="200" count="20"/></Aggregate>');
    assert.equal(alert.correlator, (await srv.server.service.operation(ops[ops.length - 1]!.id)).correlator);

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
