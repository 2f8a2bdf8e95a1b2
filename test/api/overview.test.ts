// The overview's endpoints over real HTTP with a real gateway and devices: counts from the
// gateway's inventory Summary, one read shared by many callers, a silent gateway flagged and not
// asked twice, fanouts running, sessions and failures per minute, and bad parameters refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SessionTrace } from '../../src/server/trace.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';

const GID = encodeURIComponent(GW_ID);
const get = async (api: string, path: string) => {
  const res = await fetch(`${api}${path}`);
  return { status: res.status, json: (await res.json()) as any };
};

async function rig(t: { after(fn: () => unknown): void }, devices: number) {
  const trace = new SessionTrace();
  const srv = await startServer({ trace });
  t.after(() => srv.close());
  const gw = await startGateway(srv.url);
  t.after(() => gw.close());
  const devs = await startDevices(gw.gateway.lanUrl, devices);
  t.after(async () => {
    for (const d of devs) await d.stop();
  });
  await gw.gateway.checkIn();
  const summaryGets = async () =>
    (await srv.store.listOperations(GW_ID)).filter((o) => o.target.startsWith('./GwMO/DevInventory/Summary')).length;
  return { srv, gw, devs, trace, api: srv.url.replace(/\/dm$/, '/api'), summaryGets };
}

test('the overview counts devices by gateway, mode and protocol from one Summary read that many callers share', async (t) => {
  const { api, summaryGets } = await rig(t, 3);
  const before = await summaryGets();
  const answers = await Promise.all(Array.from({ length: 5 }, () => get(api, '/overview?wait=20')));
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200, 200, 200, 200],
  );
  assert.equal(await summaryGets(), before + 1, 'five callers at once: one DM Get');
  const o = answers[0]!.json;
  const counts = {
    total: 3,
    attached: 3,
    detached: 0,
    byMode: { transparent: 0, proxy: 3, adaptation: 0 },
    byProtocol: { 'OMA-DM/1.2': 3 },
  };
  assert.deepEqual(o.devices, counts);
  assert.equal(o.gateways.length, 1);
  const g = o.gateways[0];
  assert.deepEqual([g.deviceId, g.devices, g.missedCheckIn, g.fanouts], [GW_ID, counts, false, []]);
  assert.ok(Date.parse(g.lastSeen) <= Date.parse(o.at) && Date.parse(g.devicesAt) <= Date.parse(o.at));
  assert.deepEqual([o.missedCheckIn, o.unanswered, o.fanoutsRunning, o.checkInSeconds], [[], [], 0, 60]);
  await get(api, '/overview?wait=20');
  assert.equal(await summaryGets(), before + 1, 'a read younger than 10 s is reused');
});

test('a fanout the gateway has not reported finished is counted as running', async (t) => {
  const { api, devs } = await rig(t, 2);
  // a stopped device keeps the job running until its per-device timeout
  await devs[1]!.stop();
  const start = await fetch(`${api}/gateways/${GID}/fanouts?wait=20`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'slow',
      devices: ['IMEI:000000000000001'],
      timeout: 60,
      retries: 0,
      commands: [{ kind: 'Get', path: './DevInfo/Mod' }],
    }),
  });
  assert.equal(start.status, 202);
  const o = (await get(api, '/overview?wait=20')).json;
  assert.equal(o.fanoutsRunning, 1);
  assert.deepEqual(
    o.gateways[0].fanouts.map((f: { name: string }) => f.name),
    ['slow'],
  );
  assert.ok(!Number.isNaN(Date.parse(o.gateways[0].fanouts[0].since)));
});

test('a gateway that stopped answering is shown unanswered and flagged when silent too long; its Get is queued once', async (t) => {
  const { srv, gw, api, summaryGets } = await rig(t, 1);
  await gw.gateway.stop();
  const before = await summaryGets();
  const first = (await get(api, '/overview?wait=0')).json;
  assert.deepEqual(
    [first.unanswered, first.gateways[0].devices, first.gateways[0].missedCheckIn, first.devices.total],
    [[GW_ID], null, false, 0],
  );
  await get(api, '/overview?wait=0');
  await get(api, '/overview?wait=0');
  assert.equal(await summaryGets(), before + 1, 'the unanswered Get is waited on again, not queued again');
  await srv.store.updateDevice(GW_ID, { lastSeen: Date.now() - 130_000 });
  assert.deepEqual((await get(api, '/overview?wait=0')).json.missedCheckIn, [GW_ID], 'silent for more than twice 60 s');
  assert.deepEqual((await get(api, '/overview?wait=0&checkIn=300')).json.missedCheckIn, [], 'not with a 300 s check-in');
});

test("sessions and failures per minute: the gateway's sessions and a refused message", async (t) => {
  const { srv, api } = await rig(t, 1);
  const total = (s: { sessions: number[]; failures: number[] }) => [
    s.sessions.reduce((a, b) => a + b, 0),
    s.failures.reduce((a, b) => a + b, 0),
  ];
  const first = await get(api, '/stats/sessions?minutes=5');
  assert.equal(first.status, 200);
  assert.deepEqual([first.json.minutes, first.json.sessions.length, first.json.failures.length], [5, 5, 5]);
  const [ok = 0, failed = 0] = total(first.json);
  assert.ok(ok >= 1, "the gateway's check-in");
  assert.equal(failed, 0);
  assert.equal(
    (await fetch(srv.url, { method: 'POST', headers: { 'content-type': 'application/vnd.syncml.dm+xml' }, body: '<nonsense/>' })).status,
    400,
  );
  const after = await get(api, '/stats/sessions?minutes=5');
  assert.deepEqual(total(after.json), [ok + 1, 1], 'the refused message counts as a failed session');
  assert.equal(Date.parse(after.json.from) % 60_000, 0, 'minutes start on the minute');
  assert.equal((await get(api, '/stats/sessions')).json.minutes, 180, 'the last three hours by default');
});

test('bad parameters are refused with 400 and a message; no gateway is asked', async (t) => {
  const { api, summaryGets } = await rig(t, 0);
  const before = await summaryGets();
  for (const [path, message] of [
    ['/overview?wait=abc', /wait must be an integer 0–120/],
    ['/overview?wait=121', /wait must be/],
    ['/overview?checkIn=0', /checkIn must be an integer 1–86400/],
    ['/stats/sessions?minutes=0', /minutes must be an integer 1–360/],
    ['/stats/sessions?minutes=361', /minutes must be/],
    ['/stats/sessions?minutes=1.5', /minutes must be/],
  ] as const) {
    const r = await get(api, path);
    assert.equal(r.status, 400, path);
    assert.match(r.json.error, message);
  }
  assert.equal(await summaryGets(), before);
  assert.equal((await fetch(`${api}/overview`, { method: 'POST' })).status, 405);
});

test('a server that keeps no session trace answers 503 for session counts', async (t) => {
  const srv = await startServer();
  t.after(() => srv.close());
  const r = await get(srv.url.replace(/\/dm$/, '/api'), '/stats/sessions');
  assert.equal(r.status, 503);
  assert.match(r.json.error, /counts no sessions/);
});
