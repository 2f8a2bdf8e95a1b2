// Guessing DM credentials, as an attacker would: over real HTTP, against the server and a gateway's
// LAN side. Actors: DEV, a provisioned md5 device (password "right"); a guesser posting Pkg1 with
// wrong digests from 127.0.0.1; the device itself, from 127.0.0.2 or after the lock.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { apiRoutes } from '../../src/api/routes.ts';
import { AuthScheme, encodeXml, formatHmacHeader, hmac, type Message } from '../../src/protocol/index.ts';
import { DmServer, type DmServerOptions } from '../../src/server/dm-server.ts';
import { PgAuthStore } from '../../src/store/postgres/auth.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { chalNonce, hdrStatus, md5Cred, pkg1, postDm } from '../support/dm-raw.ts';
import { startGateway, startServer } from '../support/gw-pair.ts';
import { scrape } from '../support/metrics.ts';
import { startPostgres } from '../support/postgres.ts';

const DEV = 'IMEI:350000000000001';

async function rig(t: { after(fn: () => unknown): void }, extra: Partial<DmServerOptions> = {}) {
  let now = Date.now();
  const store = new SqliteServerStore(':memory:');
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const server = new DmServer({
    store,
    serverId: 'srv',
    routes: apiRoutes,
    clock: { now: () => now },
    log: (event, fields) => logs.push({ event, fields }),
    authLimits: { delayMs: 100, maxDelayMs: 400 },
    ...extra,
  });
  const url = await server.start();
  t.after(async () => {
    await server.stop();
    await store.close();
  });
  await server.service.addDevice({
    deviceId: DEV,
    name: 'dev1',
    password: 'right',
    serverName: 'srv',
    serverPassword: 'srv-secret',
    scheme: 'md5',
  });
  return {
    server,
    store,
    url,
    logs,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

test('50 wrong DM credentials: slower answers, then a lock the right password does not pass; each failure logged once, counted, shown in the API', async (t) => {
  const { server, store, url, logs, advance, now } = await rig(t);
  const op = await server.service.queue(DEV, { kind: 'Get', path: './DevInfo/Mod' });
  const replies = [];
  for (let i = 0; i < 50; i++) replies.push(await postDm(url, pkg1(DEV, url, { locName: 'dev1', cred: md5Cred('dev1', `guess-${i}`) })));

  for (const r of replies.slice(0, 5)) assert.equal(hdrStatus(r.msg!).code, 401);
  assert.ok(
    replies[1]!.ms >= 95 && replies[2]!.ms >= 195 && replies[3]!.ms >= 395,
    `growing delay: ${replies
      .slice(0, 5)
      .map((r) => Math.round(r.ms))
      .join(', ')} ms`,
  );
  for (const r of replies.slice(5)) {
    assert.equal(r.status, 429);
    assert.equal(r.headers['retry-after'], '30');
    assert.match(r.body.toString(), /too many failed authentications for IMEI:350000000000001 from this address: try again in 30 s/);
  }
  const failed = logs.filter((l) => l.event === 'dm.auth.failed');
  assert.equal(failed.length, 5, 'each counted failure logged once; a locked message is not');
  assert.deepEqual(failed[0]!.fields, { deviceId: DEV, from: '127.0.0.1', scheme: 'md5', reason: 'credentials' });
  assert.equal(logs.filter((l) => l.event === 'dm.auth.locked').length, 1);
  const digest = md5Cred('dev1', 'guess-0').data as string;
  assert.ok(!JSON.stringify(logs).includes(digest) && !JSON.stringify(logs).includes('guess-'), 'no digest nor guess in the log');

  const m = await scrape(url.replace(/\/dm$/, '/metrics'));
  assert.equal(m('gwmo_dm_auth_failures_total', { role: 'server', scheme: 'md5', reason: 'credentials' }), 5);
  assert.equal(m('gwmo_dm_auth_lockouts_total', { role: 'server' }), 1);
  assert.equal(m('gwmo_dm_auth_locked_refusals_total', { role: 'server' }), 45);
  const view = (await (await fetch(url.replace(/\/dm$/, `/api/devices/${encodeURIComponent(DEV)}`))).json()) as Record<string, unknown>;
  assert.equal(view['authFailures'], 5);
  assert.equal(view['authLockedUntil'], new Date(now() + 30_000).toISOString());

  // the right password while locked: refused before the account is read; nothing changed
  const before = await store.getDevice(DEV);
  const nonce = chalNonce(replies[0]!.msg!);
  const locked = await postDm(url, pkg1(DEV, url, { locName: 'dev1', cred: md5Cred('dev1', 'right', nonce) }));
  assert.equal(locked.status, 429);
  assert.deepEqual(await store.getDevice(DEV), before, 'not even LastSeen moved');
  assert.equal((await store.getOperation(op.id))!.state, 'queued');
  assert.equal(server.activeSessions, 0);

  // the lock is the guesser's address's: the device elsewhere gets in, and here once the lock ends
  const elsewhere = await postDm(url, pkg1(DEV, url, { locName: 'dev1', cred: md5Cred('dev1', 'right', nonce) }), {
    localAddress: '127.0.0.2',
  });
  assert.equal(hdrStatus(elsewhere.msg!).code, 212);
  advance(30_001);
  const after = await postDm(url, pkg1(DEV, url, { locName: 'dev1', cred: md5Cred('dev1', 'right', chalNonce(elsewhere.msg!)) }));
  assert.equal(hdrStatus(after.msg!).code, 212);
});

test('missing credentials (407) are not a guess: a device that starts without Cred is never delayed nor locked', async (t) => {
  // a counted failure delays the next answer by 3 s: half that tells a delay from a loaded machine
  const { url, logs } = await rig(t, { authLimits: { delayMs: 3000, maxDelayMs: 3000 } });
  let last;
  for (let i = 0; i < 12; i++) {
    last = await postDm(url, pkg1(DEV, url, { locName: 'dev1' }));
    assert.equal(hdrStatus(last.msg!).code, 407);
    assert.ok(last.ms < 1500, `answered at once (${Math.round(last.ms)} ms)`);
  }
  assert.equal(logs.filter((l) => l.event === 'dm.auth.failed').length, 0);
  assert.equal(logs.filter((l) => l.event === 'dm.auth.challenged').length, 12);
  const ok = await postDm(url, pkg1(DEV, url, { locName: 'dev1', cred: md5Cred('dev1', 'right', chalNonce(last!.msg!)) }));
  assert.equal(hdrStatus(ok.msg!).code, 212);
});

/** the answer with what differs between two device ids taken out: the id itself and the RespURI's random key */
function shape(m: Message, deviceId: string): unknown {
  const text = JSON.stringify(m)
    .replaceAll(deviceId, '<id>')
    .replace(/\?s=[\w-]+/g, '?s=<key>');
  return JSON.parse(text);
}

test('a provisioned and an unknown device id get the same answers (407, then 401, a stable nonce, then the lock), and the unknown one leaves nothing behind', async (t) => {
  const { store, url } = await rig(t);
  const STRANGER = 'IMEI:350000000000999';
  const devices = (await store.listDevices()).length;
  const ask = (id: string, cred?: ReturnType<typeof md5Cred>) => postDm(url, pkg1(id, url, { locName: 'dev1', ...(cred ? { cred } : {}) }));
  const [k1, s1] = [await ask(DEV), await ask(STRANGER)];
  const [k2, s2] = [await ask(DEV, md5Cred('dev1', 'nope')), await ask(STRANGER, md5Cred('dev1', 'nope'))];
  for (const [k, s] of [
    [k1, s1],
    [k2, s2],
  ] as const) {
    const [nk, ns] = [hdrStatus(k.msg!).chal!.meta.nextNonce!, hdrStatus(s.msg!).chal!.meta.nextNonce!];
    assert.equal(Buffer.from(nk, 'base64').length, Buffer.from(ns, 'base64').length, 'nonces of one length');
    assert.deepEqual(shape(s.msg!, STRANGER), JSON.parse(JSON.stringify(shape(k.msg!, DEV)).replaceAll(nk, ns)));
  }
  assert.deepEqual([hdrStatus(k1.msg!).code, hdrStatus(k2.msg!).code], [407, 401]);
  assert.equal(hdrStatus(k2.msg!).chal!.meta.nextNonce, hdrStatus(k1.msg!).chal!.meta.nextNonce, 'a known id keeps its nonce');
  assert.equal(hdrStatus(s2.msg!).chal!.meta.nextNonce, hdrStatus(s1.msg!).chal!.meta.nextNonce, 'and so does an unknown one');
  for (let i = 0; i < 4; i++) await Promise.all([ask(DEV, md5Cred('dev1', 'nope')), ask(STRANGER, md5Cred('dev1', 'nope'))]);
  const [kl, sl] = [await ask(DEV), await ask(STRANGER)];
  assert.deepEqual([kl.status, sl.status], [429, 429], 'both locked after five wrong guesses');
  assert.equal(kl.body.toString().replace(DEV, '<id>'), sl.body.toString().replace(STRANGER, '<id>'));
  assert.equal((await store.listDevices()).length, devices, 'no row for the unknown id');
});

test("no reply carries the server's Cred (or HMAC) before the device authenticated; the first accepted one does", async (t) => {
  const { server, url } = await rig(t);
  const missing = await postDm(url, pkg1(DEV, url, { locName: 'dev1' }));
  assert.equal(missing.msg!.hdr.cred, undefined);
  const wrong = await postDm(url, pkg1(DEV, url, { locName: 'dev1', cred: md5Cred('dev1', 'nope') }));
  assert.equal(wrong.msg!.hdr.cred, undefined);
  const ok = await postDm(url, pkg1(DEV, url, { locName: 'dev1', cred: md5Cred('dev1', 'right', chalNonce(wrong.msg!)) }));
  assert.equal(hdrStatus(ok.msg!).code, 212);
  assert.equal(ok.msg!.hdr.cred?.meta?.type, AuthScheme.Md5, 'our Cred once the device proved itself');

  await server.service.addDevice({
    deviceId: 'IMEI:350000000000002',
    name: 'dev2',
    password: 'right',
    serverName: 'srv',
    serverPassword: 'srv-secret',
    scheme: 'hmac',
  });
  const body = encodeXml(pkg1('IMEI:350000000000002', url, { locName: 'dev2' }));
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/vnd.syncml.dm+xml',
      'x-syncml-hmac': formatHmacHeader({ username: 'dev2', mac: hmac('dev2', 'nope', new Uint8Array(0), body) }),
    },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-syncml-hmac'), null, 'no MAC of ours on a refusal');
});

test("the gateway's LAN side counts and locks the same way, and stores no account for a guesser", async (t) => {
  const srv = await startServer();
  t.after(() => srv.close());
  const gw = await startGateway(srv.url);
  t.after(() => gw.close());
  const lan = gw.gateway.lanUrl;
  const rows = (await gw.south.listDevices()).length;
  const codes = [];
  for (let i = 0; i < 6; i++) {
    const r = await postDm(lan, pkg1('IMEI:350000000000777', lan, { locName: 'device', cred: md5Cred('device', `guess-${i}`) }));
    codes.push(r.status === 200 ? hdrStatus(r.msg!).code : r.status);
  }
  assert.deepEqual(codes, [401, 401, 401, 401, 401, 429]);
  assert.equal((await gw.south.listDevices()).length, rows, 'nothing enrolled');
  const m = await scrape(lan.replace(/\/dm$/, '/metrics'));
  assert.equal(m('gwmo_dm_auth_lockouts_total', { role: 'gateway' }), 1);
});

test('PostgreSQL: failures on two server instances add up, and the lock holds on both', async (t) => {
  const cluster = await startPostgres();
  t.after(() => cluster.close());
  const db = await cluster.database();
  const instances = [];
  for (let i = 0; i < 2; i++) {
    const auth = await PgAuthStore.open(db);
    t.after(() => auth.close());
    instances.push(await rig(t, { authFailures: auth.loginFailures, authLimits: { delayMs: 1, maxDelayMs: 1 } }));
  }
  const [a, b] = instances as [Awaited<ReturnType<typeof rig>>, Awaited<ReturnType<typeof rig>>];
  const guess = (x: typeof a, i: number) => postDm(x.url, pkg1(DEV, x.url, { locName: 'dev1', cred: md5Cred('dev1', `guess-${i}`) }));
  for (let i = 0; i < 5; i++) {
    const r = await guess(i % 2 ? b : a, i);
    assert.equal(hdrStatus(r.msg!).code, 401);
  }
  assert.equal((await guess(a, 5)).status, 429);
  assert.equal((await guess(b, 6)).status, 429);
  const view = (await (await fetch(b.url.replace(/\/dm$/, `/api/devices/${encodeURIComponent(DEV)}`))).json()) as Record<string, unknown>;
  assert.equal(view['authFailures'], 5);
  assert.notEqual(view['authLockedUntil'], null);
});

test("DM passwords guessed over HTTP Basic (/push, /images) count with the DM sessions' guesses; enrolment secrets are counted per address", async (t) => {
  const imageDir = await mkdtemp(join(tmpdir(), 'gwmo-guess-'));
  t.after(() => rm(imageDir, { recursive: true, force: true }));
  const { url, logs, server } = await rig(t, { enrolmentSecret: 'the-enrolment-secret', imageDir });
  const base = url.replace(/\/dm$/, '');
  const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`dev1:${password}`).toString('base64')}` });
  const push = (password: string) => fetch(`${base}/push/${encodeURIComponent(DEV)}`, { headers: basic(password) });
  const image = (password: string) =>
    fetch(`${base}/images/${'0'.repeat(64)}?device=${encodeURIComponent(DEV)}`, { headers: basic(password) });
  // no credentials at all is no guess
  assert.equal((await fetch(`${base}/push/${encodeURIComponent(DEV)}`)).status, 401);
  for (const r of [await push('a'), await image('b'), await push('c')]) assert.equal(r.status, 401);
  // two wrong digests at /dm lock the device at this address: the same five
  for (const i of [0, 1]) await postDm(url, pkg1(DEV, url, { locName: 'dev1', cred: md5Cred('dev1', `guess-${i}`) }));
  const locked = await push('right');
  assert.equal(locked.status, 429, 'the right password too, while locked');
  assert.equal(locked.headers.get('retry-after'), '30');
  assert.equal((await image('right')).status, 429);
  assert.equal(logs.filter((l) => l.event === 'dm.auth.failed').length, 5);
  assert.equal(logs.filter((l) => l.event === 'dm.auth.locked').length, 1);
  assert.equal(server.activeSessions, 0);

  const enrol = (secret: string) =>
    fetch(`${base}/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId: 'GW:NEW', enrolmentSecret: secret }),
    });
  for (let i = 0; i < 10; i++) assert.equal((await enrol(`guess-${i}`)).status, 403);
  const refused = await enrol('the-enrolment-secret');
  assert.equal(refused.status, 429);
  assert.match(
    ((await refused.json()) as { error: string }).error,
    /too many wrong enrolment credentials from this address; try again in 30 s/,
  );
  assert.equal(
    await server.service.device('GW:NEW').then(
      () => 'exists',
      () => 'none',
    ),
    'none',
    'no account created',
  );
});
