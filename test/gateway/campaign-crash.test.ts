// A server process killed with SIGKILL in the middle of a campaign (its canary done, a later wave
// running), then started again on the same database: the campaign carries on from the store and
// ends done, every device updated exactly once, none forgotten.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { gatewayWithFirmware } from '../support/campaign-rig.ts';
import type { DmDevice } from '../../src/client/device.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { GW_ID, type startGateway } from '../support/gw-pair.ts';
import { type Instance, startInstance } from '../support/instance.ts';
import { freePort } from '../support/ports.ts';

const N = 8;
const bytes = randomBytes(40_000);
const sha = createHash('sha256').update(bytes).digest('hex');
const dm = (i: number) => `IMEI:${String(i).padStart(15, '0')}`;

test('SIGKILL of the server mid-campaign and restart: done, each device updated once', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-camp-crash-'));
  const db = join(dir, 'server.db');
  const port = await freePort();
  const start = (): Promise<Instance> => startInstance(db, dir, ['--port', String(port), '--server-id', 'srv']);
  let srv = await start();
  let gw: Awaited<ReturnType<typeof startGateway>> | undefined;
  let devices: DmDevice[] = [];
  try {
    const started = await gatewayWithFirmware(srv, dir, N, { bytes, sha });
    gw = started.gw;
    devices = started.devices;
    const installs = started.installs;
    const created = await srv.call('POST', '/campaigns', {
      name: 'crash',
      gateway: GW_ID,
      image: 'fw2',
      object: 'fumo',
      devices: Array.from({ length: N }, (_, i) => dm(i)),
      canary: { count: 1 },
      waves: 3,
      perGatewayConcurrency: 1,
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    // killed as a batch of wave 2 starts: the canary and wave 1 are behind it
    await srv.proc.waitFor((l) => l.event === 'campaign.batch' && String(l['batch']).startsWith('crash.w2.'), 60_000);
    srv.proc.child.kill('SIGKILL');
    await new Promise((resolve) => srv.proc.child.once('exit', resolve));
    srv = await start();
    await gw.gateway.checkIn(); // the gateway's next check-in, which the test does not wait for
    await srv.proc.waitFor((l) => l.event === 'campaign.done' && l['id'] === 'crash', 60_000);
    srv.proc.child.kill('SIGTERM');
    await new Promise((resolve) => srv.proc.child.once('exit', resolve));
    const store = new SqliteServerStore(db);
    try {
      assert.equal((await store.getCampaign('crash'))?.state, 'done');
      for (let i = 0; i < N; i++) {
        const rows = await store.listDeviceDistributions(dm(i));
        assert.deepEqual(
          rows.map((r) => r.state),
          ['succeeded'],
          `${dm(i)}: one distribution, succeeded`,
        );
      }
    } finally {
      await store.close();
    }
    assert.deepEqual(installs, Array(N).fill(1), 'every device installed once');
    for (const d of devices) assert.equal(d.fumo.installed?.sha256, sha);
  } finally {
    for (const d of devices) await d.stop();
    await gw?.close();
    if (srv.proc.child.exitCode === null) srv.proc.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
