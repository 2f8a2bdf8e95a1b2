// A `gwmo server` SIGKILLed between storing distributions and their gateway runs, started again on
// the same database: the cut starts (one with no fanout recorded, one whose fanout the gateway
// never got, one a campaign's batch) are found on start and run to their end, each device updated
// once, and the campaign goes on to its next wave.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { gatewayWithFirmware } from '../support/campaign-rig.ts';
import type { DmDevice } from '../../src/client/device.ts';
import type { DistributionRow } from '../../src/store/server.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { GW_ID, type startGateway } from '../support/gw-pair.ts';
import { type Instance, startInstance } from '../support/instance.ts';
import { freePort } from '../support/ports.ts';

const N = 5;
const bytes = randomBytes(40_000);
const sha = createHash('sha256').update(bytes).digest('hex');
const dm = (i: number) => `IMEI:${String(i).padStart(15, '0')}`;

test('SIGKILL between storing a distribution and its gateway run: started on restart, each device once', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-dist-crash-'));
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
    // one ordinary distribution: where the gateway serves the image, and one device updated before the crash
    const seed = await srv.call('POST', `/gateways/${encodeURIComponent(GW_ID)}/distributions`, {
      name: 'seed',
      image: 'fw2',
      object: 'fumo',
      devices: [dm(4)],
    });
    assert.equal(seed.status, 202, JSON.stringify(seed.json));
    await srv.proc.waitFor((l) => l.event === 'distribution.done' && l['id'] === 'seed', 30_000);
    srv.proc.child.kill('SIGKILL');
    await new Promise((resolve) => srv.proc.child.once('exit', resolve));

    // what a server killed in the middle of three starts leaves in its store
    const long = Date.now() - 120_000;
    const row = (id: string, fanouts: DistributionRow['fanouts']): DistributionRow => ({
      id,
      gatewayId: GW_ID,
      image: 'fw2',
      url: seed.json.url,
      hash: seed.json.hash,
      version: seed.json.version,
      object: 'fumo',
      state: 'running',
      fanouts,
      createdAt: long,
      updatedAt: long,
    });
    const device = (distributionId: string, i: number, state: 'queued' | 'sent') => ({
      distributionId,
      deviceId: dm(i),
      object: 'fumo' as const,
      state,
      updatedAt: long,
    });
    const store = new SqliteServerStore(db);
    try {
      await store.putDistribution(row('early', []));
      await store.putDistributionDevices([device('early', 0, 'queued')]);
      await store.putDistribution(row('late', [{ name: 'late.fumo', correlator: 'dist:late:fumo', object: 'fumo', done: false }]));
      await store.putDistributionDevices([device('late', 1, 'sent')]);
      // a campaign whose canary batch was being started
      await store.putCampaign({
        id: 'camp',
        gatewayId: GW_ID,
        image: 'fw2',
        object: 'fumo',
        state: 'running',
        waves: [[dm(2)], [dm(3)]],
        wave: 0,
        failureThreshold: 0,
        perGatewayConcurrency: 10,
        createdAt: long,
        updatedAt: long,
      });
      await store.putDistribution(row('camp.w0.b0', []));
      await store.putDistributionDevices([device('camp.w0.b0', 2, 'queued')]);
    } finally {
      await store.close();
    }

    srv = await start();
    await gw.gateway.checkIn(); // the gateway's next check-in
    for (const id of ['early', 'late']) await srv.proc.waitFor((l) => l.event === 'distribution.done' && l['id'] === id, 60_000);
    await srv.proc.waitFor((l) => l.event === 'campaign.done' && l['id'] === 'camp', 60_000);
    assert.ok(srv.proc.lines.some((l) => l.event === 'distribution.recover' && l['id'] === 'early'));
    assert.ok(srv.proc.lines.some((l) => l.event === 'distribution.recover' && l['id'] === 'late' && l['fanout'] === 'late.fumo'));
    srv.proc.child.kill('SIGTERM');
    await new Promise((resolve) => srv.proc.child.once('exit', resolve));
    const after = new SqliteServerStore(db);
    try {
      assert.equal((await after.getCampaign('camp'))?.state, 'done');
      for (let i = 0; i < N; i++)
        assert.deepEqual(
          (await after.listDeviceDistributions(dm(i))).map((r) => [r.state, r.resultCode]),
          [['succeeded', 200]],
          `${dm(i)}: one distribution, succeeded`,
        );
    } finally {
      await after.close();
    }
    assert.deepEqual(installs, Array(N).fill(1), 'every device installed once');
  } finally {
    for (const d of devices) await d.stop();
    await gw?.close();
    if (srv.proc.child.exitCode === null) srv.proc.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
