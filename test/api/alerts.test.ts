// Alerts devices send, seen through the API: a device posts Generic Alerts (a DevDetail tree as TNDS
// XML, a FUMO result, bytes) in a real DM message over HTTP; the lists, filters, paging and the
// live event stream answer them; bad queries get a 400 that says why. On PostgreSQL, an alert one
// instance stores reaches a stream on another.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { apiRoutes } from '../../src/api/routes.ts';
import type { Item, Message } from '../../src/protocol/index.ts';
import { DmServer } from '../../src/server/dm-server.ts';
import { PgServerStore } from '../../src/store/postgres/server.ts';
import { chalNonce, hdrStatus, md5Cred, pkg1, postDm } from '../support/dm-raw.ts';
import { startServer } from '../support/gw-pair.ts';
import { type PgCluster, startPostgres } from '../support/postgres.ts';
import { events, type Sse } from '../support/sse.ts';

const TNDS =
  '<MgmtTree><VerDTD>1.2</VerDTD><Node><NodeName>DevDetail</NodeName><Node><NodeName>FwV</NodeName><Value>1.0.7</Value></Node></Node></MgmtTree>';
const DEVDETAIL: Item = {
  source: { locUri: './DevDetail' },
  meta: { type: 'org.openmobilealliance.dm.tndsxml', format: 'xml' },
  data: TNDS,
};
const FUMO: Item = {
  source: { locUri: './FUMO/1/Update' },
  meta: { type: 'org.openmobilealliance.dm.firmwareupdate.update', format: 'chr' },
  data: '200',
};
const BLOB: Item = {
  source: { locUri: './Vendor/x' },
  meta: { type: 'org.example.blob', format: 'b64' },
  data: Uint8Array.of(0, 1, 2, 255),
};

/** one DM message from the device: Alert 1201, DevInfo, then a Generic Alert per item */
function withAlerts(deviceId: string, url: string, items: readonly Item[], sessionId: string, nonce?: Uint8Array): Message {
  const m = pkg1(deviceId, url, { locName: deviceId, cred: md5Cred(deviceId, 'pw', nonce), sessionId });
  return {
    ...m,
    body: {
      ...m.body,
      commands: [...m.body.commands, ...items.map((it, i) => ({ kind: 'Alert' as const, cmdId: 3 + i, data: 1226, items: [it] }))],
    },
  };
}

let sessions = 0;
/** the nonce each device's next digest uses (the server's Chal NextNonce of its last answer) */
const nonces = new Map<string, Uint8Array>();
async function send(dmUrl: string, deviceId: string, items: readonly Item[]): Promise<void> {
  const r = await postDm(dmUrl, withAlerts(deviceId, dmUrl, items, String(++sessions), nonces.get(deviceId)));
  assert.equal(r.status, 200);
  assert.equal(hdrStatus(r.msg!).code, 212);
  nonces.set(deviceId, chalNonce(r.msg!));
}

async function addDevice(api: string, deviceId: string): Promise<void> {
  const r = await fetch(`${api}/devices`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ deviceId, name: deviceId, password: 'pw' }),
  });
  assert.equal(r.status, 201);
}

const get = async (url: string) => {
  const r = await fetch(url);
  return { status: r.status, json: (await r.json()) as any };
};

/** the next `alert` event of a stream, with a deadline */
async function nextAlert(it: AsyncGenerator<Sse | 'heartbeat'>, ms = 10_000): Promise<Sse> {
  const deadline = AbortSignal.timeout(ms);
  const timeout = new Promise<never>((_, reject) =>
    deadline.addEventListener('abort', () => reject(new Error(`no alert event within ${ms} ms`))),
  );
  for (;;) {
    const n = await Promise.race([it.next(), timeout]);
    if (n.done) throw new Error('the stream ended');
    if (n.value !== 'heartbeat' && n.value.event === 'alert') return n.value;
  }
}

let srv: Awaited<ReturnType<typeof startServer>>;
let api = '';
before(async () => {
  srv = await startServer();
  api = srv.url.replace(/\/dm$/, '/api');
  await addDevice(api, 'IMEI:ALERT-1');
  await addDevice(api, 'IMEI:ALERT-2');
  await send(srv.url, 'IMEI:ALERT-1', [DEVDETAIL, FUMO]);
  await send(srv.url, 'IMEI:ALERT-2', [BLOB]);
});
after(() => srv.close());

test("a device's Generic Alerts are listed newest first with Type, Format and Data: XML and text as text, bytes as base64", async () => {
  const r = await get(`${api}/devices/IMEI%3AALERT-1/alerts`);
  assert.equal(r.status, 200);
  assert.deepEqual(
    r.json.items.map((a: any) => [a.code, a.type, a.items[0].format, a.items[0].source]),
    [
      [1226, FUMO.meta!.type, 'chr', './FUMO/1/Update'],
      [1226, DEVDETAIL.meta!.type, 'xml', './DevDetail'],
    ],
  );
  assert.equal(r.json.items[1].items[0].data, TNDS);
  assert.match(r.json.items[0].receivedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual((await get(`${api}/devices/IMEI%3AALERT-2/alerts`)).json.items[0].items[0].data, { base64: 'AAEC/w==', format: 'b64' });
});

test('fleet-wide alerts filter by device, Type (exact or prefix*), code and time, and page by cursor', async () => {
  const all = (await get(`${api}/alerts`)).json.items;
  assert.deepEqual(
    all.map((a: any) => a.deviceId),
    ['IMEI:ALERT-2', 'IMEI:ALERT-1', 'IMEI:ALERT-1'],
  );
  assert.deepEqual(
    (await get(`${api}/alerts?device=IMEI%3AALERT-2`)).json.items.map((a: any) => a.type),
    ['org.example.blob'],
  );
  assert.equal((await get(`${api}/alerts?type=org.openmobilealliance.dm`)).json.items.length, 0);
  assert.deepEqual(
    (await get(`${api}/alerts?type=org.openmobilealliance.dm.*`)).json.items.map((a: any) => a.type),
    [FUMO.meta!.type, DEVDETAIL.meta!.type],
  );
  assert.equal((await get(`${api}/alerts?code=1201`)).json.items.length, 0);
  const at = Date.parse(all[2].receivedAt);
  assert.equal((await get(`${api}/alerts?since=${new Date(at + 60_000).toISOString()}`)).json.items.length, 0);
  assert.equal(
    (
      await get(
        `${api}/alerts?until=${encodeURIComponent(new Date(at + 60_000).toISOString())}&since=${new Date(at - 60_000).toISOString()}`,
      )
    ).json.items.length,
    3,
  );
  const first = (await get(`${api}/alerts?limit=2`)).json;
  assert.equal(first.next, all[1].id);
  const second = (await get(`${api}/alerts?limit=2&before=${first.next}`)).json;
  assert.deepEqual(
    second.items.map((a: any) => a.id),
    [all[2].id],
  );
  assert.equal(second.next, null);
});

test('bad alert queries get a 400 that names the parameter; an unknown device 404', async () => {
  for (const [q, word] of [
    ['since=yesterday', 'since'],
    ['until=2025-13-45T00:00:00Z', 'until'],
    ['since=2025-01-01T00:00:00', 'since'],
    ['limit=0', 'limit'],
    ['before=0', 'before'],
    ['before=abc', 'before'],
    ['code=-1', 'code'],
    ['type=*', 'type'],
  ] as const) {
    const r = await get(`${api}/alerts?${q}`);
    assert.equal(r.status, 400, q);
    assert.match(r.json.error, new RegExp(word), q);
  }
  const r = await get(`${api}/devices/IMEI%3Anobody/alerts`);
  assert.equal(r.status, 404);
  assert.match(r.json.error, /no device "IMEI:nobody"/);
  assert.equal((await get(`${api}/alerts/events?since=2025-01-01`)).status, 400);
});

test('the alert stream pushes new alerts as they are stored, only those matching its filter, and resumes after Last-Event-ID', async () => {
  const ac = new AbortController();
  try {
    const res = await fetch(`${api}/alerts/events?device=IMEI%3AALERT-1&type=org.openmobilealliance.dm.*`, { signal: ac.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
    const it = events(res);
    await send(srv.url, 'IMEI:ALERT-2', [FUMO]); // another device: not for this stream
    await send(srv.url, 'IMEI:ALERT-1', [BLOB, FUMO]); // the blob's Type does not match
    const e = await nextAlert(it);
    const alert = JSON.parse(e.data);
    assert.deepEqual([alert.deviceId, alert.type, alert.items[0].data, e.id], ['IMEI:ALERT-1', FUMO.meta!.type, '200', alert.id]);
    await send(srv.url, 'IMEI:ALERT-1', [DEVDETAIL]);
    assert.equal(
      JSON.parse((await nextAlert(it)).data).type,
      DEVDETAIL.meta!.type,
      'the next one is the next match: nothing else came between',
    );
    ac.abort();
    // a client that reconnects with Last-Event-ID gets what it missed, oldest first, then the live ones
    const again = await fetch(`${api}/alerts/events?device=IMEI%3AALERT-1`, {
      headers: { 'last-event-id': String(Number(e.id) - 2) },
      signal: AbortSignal.timeout(10_000),
    });
    const it2 = events(again);
    const replayed: string[] = [];
    for (let i = 0; i < 3; i++) replayed.push(JSON.parse((await nextAlert(it2)).data).type);
    assert.deepEqual(replayed, [BLOB.meta!.type, FUMO.meta!.type, DEVDETAIL.meta!.type]);
    await send(srv.url, 'IMEI:ALERT-1', [FUMO]);
    assert.equal(Number(JSON.parse((await nextAlert(it2)).data).id), Number(e.id) + 2, 'then the live ones');
    await it2.return(undefined);
  } finally {
    ac.abort();
  }
});

test('with two instances on PostgreSQL, an alert stored by one reaches the alert stream of the other', { timeout: 120_000 }, async () => {
  let pg: PgCluster | undefined;
  const servers: { server: DmServer; store: PgServerStore }[] = [];
  try {
    pg = await startPostgres();
    const url = await pg.database();
    for (let i = 0; i < 2; i++) {
      const store = await PgServerStore.open(url);
      const server = new DmServer({ store, serverId: 'srv', routes: apiRoutes });
      servers.push({ server, store });
      await server.start();
    }
    const [a, b] = servers.map((s) => ({ dm: s.server.url, api: s.server.url.replace(/\/dm$/, '/api') }));
    await addDevice(a!.api, 'IMEI:PG-1');
    const res = await fetch(`${b!.api}/alerts/events?device=IMEI%3APG-1`, { signal: AbortSignal.timeout(60_000) });
    const it = events(res);
    await send(a!.dm, 'IMEI:PG-1', [FUMO]);
    const heard = JSON.parse((await nextAlert(it, 30_000)).data);
    assert.deepEqual([heard.deviceId, heard.type], ['IMEI:PG-1', FUMO.meta!.type]);
    assert.deepEqual(
      (await get(`${b!.api}/alerts?type=org.openmobilealliance.dm.firmwareupdate.update`)).json.items.map((x: any) => x.id),
      [heard.id],
    );
    await it.return(undefined);
  } finally {
    for (const s of servers) {
      await s.server.stop();
      await s.store.close();
    }
    await pg?.close();
  }
});
