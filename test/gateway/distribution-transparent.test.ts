// Distributions reach transparent-mode devices. Actors: a DM server with the REST API; a gateway
// with an image staged in its LAN store; device T, bootstrapped by the gateway to the server
// (transparent mode: its own DM sessions with the server, woken through the gateway's EDTrigger);
// device P, managed by the gateway (proxy mode). One distribution updates both.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';

import { updateCommands } from '../../src/server/distributions.ts';
import type { DistributionRow } from '../../src/store/server.ts';
import { LOCAL } from '../../src/tree/index.ts';
import { GW_ID, startRig } from '../support/gw-pair.ts';
import { events } from '../support/sse.ts';

const SIZE = 200_000;
const bytes = randomBytes(SIZE);
const sha = createHash('sha256').update(bytes).digest('hex');
const gid = encodeURIComponent(GW_ID);
const T = 'IMEI:000000000000000';
const P = 'IMEI:000000000000001';

async function rig(t: Parameters<typeof startRig>[0]) {
  const r = await startRig(t, { images: true, devices: 2 });
  const call = async (method: string, path: string, body?: unknown, raw?: Buffer) => {
    const res = await fetch(r.api + path, {
      method,
      ...(raw
        ? { body: raw, headers: { 'content-type': 'application/octet-stream' } }
        : body
          ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
          : {}),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  // T: an account on the server, written into the device by the gateway (HLF-006): Mode becomes 1
  const service = r.srv.server.service;
  await service.addDevice({ deviceId: T, name: 'td', password: 'td-pw', serverName: 'srv', serverPassword: 'srv-td-pw' });
  const base = `./GwMO/DevInventory/Devices/${T}/Bootstrap`;
  const booted = r.srv.alertOf('bootstrap');
  for (const o of [
    { kind: 'Replace' as const, path: `${base}/Target`, value: '2' },
    { kind: 'Replace' as const, path: `${base}/ServerID`, value: 'srv' },
    { kind: 'Replace' as const, path: `${base}/ServerURI`, value: r.srv.url },
    { kind: 'Replace' as const, path: `${base}/AuthName`, value: 'td' },
    { kind: 'Replace' as const, path: `${base}/AuthSecret`, value: 'td-pw' },
    { kind: 'Replace' as const, path: `${base}/ServerSecret`, value: 'srv-td-pw' },
    { kind: 'Exec' as const, path: `${base}/Operations/Start` },
  ])
    await service.queue(GW_ID, o);
  await r.gw.gateway.checkIn();
  assert.equal((await booted).items[0]!.data, '200');
  assert.equal(r.gw.gstore.getDevice(T)!.mode, 1, 'T is in transparent mode');
  // the bootstrap grants the server its own account only; T's maker lets that server update it
  assert.equal(await r.devices[0]!.tree.replace(LOCAL, './FUMO?prop=ACL', { data: 'Get=*&Replace=srv&Exec=srv' }), 200);

  const up = await call('POST', '/images?name=fw&version=2.0', undefined, bytes);
  assert.equal(up.status, 201);
  const ready = r.srv.alertOf('imageready');
  assert.equal((await call('POST', `/gateways/${gid}/images`, { image: sha, name: 'fw2' })).status, 202);
  await ready;
  /** starts a distribution and follows its event stream to the end */
  const distribute = async (body: Record<string, unknown>) => {
    const started = await call('POST', `/gateways/${gid}/distributions`, { image: 'fw2', ...body });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    const res = await fetch(`${r.api}/distributions/${started.json.id}/events`);
    for await (const e of events(res)) if (e !== 'heartbeat' && e.event === 'done') return JSON.parse(e.data);
    throw new Error('the stream ended without done');
  };
  return { ...r, call, distribute, t: r.devices[0]!, p: r.devices[1]! };
}

const byDevice = (done: any) => Object.fromEntries(done.devices.map((d: any) => [d.deviceId, d]));

test('one distribution (object auto) updates a transparent-mode device (its own queue, the LAN store) and a proxy-mode one, each once', async (t) => {
  const r = await rig(t);
  // auto: T's tree is read in its own session with the server, P's by the gateway's probe fanout
  const done = await r.distribute({ name: 'both', devices: [T, P] });
  const d = byDevice(done);
  assert.deepEqual(
    [T, P].map((id) => [d[id].mode, d[id].object, d[id].state, d[id].status, d[id].resultCode, d[id].meaning]),
    [
      ['transparent', 'fumo', 'succeeded', 200, 200, 'Successful'],
      [undefined, 'fumo', 'succeeded', 200, 200, 'Successful'],
    ],
  );
  // each device downloaded once, from the gateway's LAN store; the image crossed the WAN once
  assert.deepEqual(
    [r.t.fumo.installed, r.p.fumo.installed],
    [
      { sha256: sha, bytes: SIZE, requests: 1 },
      { sha256: sha, bytes: SIZE, requests: 1 },
    ],
  );
  assert.deepEqual(r.gw.gateway.images.served, { bytes: 2 * SIZE, requests: 2 });
  assert.equal(r.srv.server.images!.served.bytes, SIZE);
  const url = String(r.t.tree.read('./FUMO/DownloadAndUpdate/PkgURL'));
  assert.equal(url, done.url);
  assert.ok(url.startsWith(`${r.gw.gateway.lanUrl.replace(/\/dm$/, '')}/img/${sha}?token=`), url);
  // T's commands came from the server in its own session, and its Generic Alert went back there
  const execs = (await r.srv.store.listOperations(T)).filter((o) => o.kind === 'Exec');
  assert.deepEqual(
    execs.map((o) => [o.target, o.state, o.status]),
    [['./FUMO/DownloadAndUpdate', 'done', 200]],
  );
  const alert = (await r.srv.store.listAlerts(T)).find((a) => a.correlator === execs[0]!.correlator);
  assert.equal(alert?.items[0]?.data, '200');
  assert.ok(!(await r.gw.south.listOperations(T)).some((o) => o.target.startsWith('./FUMO')), 'nothing went to T through the gateway');
  assert.ok(
    (await r.gw.south.listOperations(P)).some((o) => o.target === './FUMO/DownloadAndUpdate'),
    'P was reached by the fanout',
  );
});

test("a transparent-mode device's failure is its row's: corrupt package 402; an alert that never comes fails at the timeout; no server account", async (t) => {
  const r = await rig(t);
  r.t.updateFaults.corrupt = true;
  const bad = byDevice(await r.distribute({ name: 'corrupt', object: 'fumo', devices: [T, P] }));
  assert.deepEqual(
    [T, P].map((id) => [bad[id].state, bad[id].status, bad[id].resultCode, bad[id].meaning]),
    [
      ['failed', 500, 402, 'Corrupted Firmware Update Package'],
      ['succeeded', 200, 200, 'Successful'],
    ],
  );
  assert.equal(r.t.fumo.installed, undefined);

  // the device takes the Exec (202) and its report is lost: no success is made up
  r.t.updateFaults.corrupt = false;
  const lost: unknown[] = [];
  r.t.agent.queueAlert = (a) => void lost.push(a);
  const silent = byDevice(await r.distribute({ name: 'silent', object: 'fumo', timeout: 3, devices: [T] }));
  assert.equal(silent[T].state, 'failed');
  assert.equal(silent[T].status, 202);
  assert.match(
    silent[T].meaning,
    /accepted the Exec \(202\) but its Generic Alert .* did not come within the distribution's timeout \(3 s\)/,
  );
  assert.equal(lost.length, 1, 'the device did finish and report: the report was lost on the way');

  // P switched to transparent mode (MOO-001) with no account on the server: said so, nothing sent
  const mode = await r.srv.server.gateways.run(
    GW_ID,
    [{ kind: 'Replace', path: `./GwMO/DevInventory/Devices/${P}/Mode`, value: '1' }],
    10_000,
  );
  assert.equal(mode.operations[0]!.status, 200);
  const orphan = byDevice(await r.distribute({ name: 'orphan', object: 'fumo', devices: [P] }));
  assert.deepEqual([orphan[P].mode, orphan[P].state], ['transparent', 'failed']);
  assert.match(orphan[P].meaning, /transparent mode and has no account on this server/);
});

test('a transparent-mode row a restart cut is taken over by recover: commands queued and not triggered, or not queued yet', async (t) => {
  const r = await rig(t);
  const image = await r.srv.server.gateways.imageOnGateway(GW_ID, 'fw2', 10_000);
  const long = Date.now() - 120_000;
  const dist = (id: string): DistributionRow => ({
    id,
    gatewayId: GW_ID,
    image: 'fw2',
    ...image,
    object: 'fumo',
    state: 'running',
    fanouts: [],
    createdAt: long,
    updatedAt: long,
  });
  const ended = (id: string) =>
    new Promise<void>((resolve, reject) => {
      const events = r.srv.server.distributions.events;
      const timer = setTimeout(() => reject(new Error(`${id} not done in time`)), 30_000);
      const on = (ended: string) => {
        if (ended !== id) return;
        clearTimeout(timer);
        events.off('end', on);
        resolve();
      };
      events.on('end', on);
    });
  const cut = async (id: string, queued: boolean) => {
    await r.srv.store.putDistribution(dist(id));
    await r.srv.store.putDistributionDevices([
      { distributionId: id, deviceId: T, object: 'fumo', mode: 'transparent', state: 'sent', updatedAt: long },
    ]);
    if (queued)
      for (const c of updateCommands('fumo', dist(id))) await r.srv.server.service.queue(T, { ...c, correlator: `dist:${id}:transparent` });
    const end = ended(id);
    await r.srv.server.distributions.recover(60_000);
    await end;
    return (await r.srv.store.listDistributionDevices(id))[0]!;
  };
  const queued = await cut('cut-queued', true);
  assert.deepEqual([queued.state, queued.status, queued.resultCode], ['succeeded', 200, 200]);
  assert.equal(r.t.fumo.installed?.requests, 1);
  const bare = await cut('cut-bare', false);
  assert.deepEqual([bare.state, bare.status, bare.resultCode], ['succeeded', 200, 200]);
  const execs = (await r.srv.store.listOperations(T)).filter((o) => o.kind === 'Exec');
  assert.deepEqual(
    execs.map((o) => [o.correlator, o.state]).sort(),
    [
      ['dist:cut-bare:transparent', 'done'],
      ['dist:cut-queued:transparent', 'done'],
    ],
    'one Exec each: the queued commands were not queued again',
  );
});

test('a campaign whose canary is a transparent-mode device: its batch ends on its own alert, and the wave after it runs', async (t) => {
  const r = await rig(t);
  const created = await r.call('POST', '/campaigns', {
    name: 'camp',
    gateway: GW_ID,
    image: 'fw2',
    object: 'fumo',
    devices: [T, P],
    canary: { count: 1 },
    waves: 1,
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const campaigns = r.srv.server.campaigns;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('campaign camp not done within 30 s')), 30_000);
    const check = async () => {
      if ((await r.srv.store.getCampaign('camp'))?.state !== 'done') return;
      clearTimeout(timer);
      campaigns.events.off('change', check);
      resolve();
    };
    campaigns.events.on('change', check);
    void check();
  });
  assert.deepEqual((await r.srv.store.getCampaign('camp'))!.waves, [[T], [P]]);
  const canary = (await r.srv.store.listDeviceDistributions(T))[0]!;
  assert.deepEqual([canary.mode, canary.state, canary.resultCode], ['transparent', 'succeeded', 200]);
  const report = await r.call('GET', '/campaigns/camp/report?format=json');
  assert.deepEqual(
    report.json.waves.map((w: any) => [w.name, w.state, w.failed]),
    [
      ['canary', 'done', 0],
      ['wave 1', 'done', 0],
    ],
  );
  assert.deepEqual(report.json.byResult, { '200 Successful': 2 });
  assert.deepEqual([r.t.fumo.installed?.requests, r.p.fumo.installed?.requests], [1, 1]);
});
