// Each LAN device gets its own server secret (src/gateway/server-secret.ts): a Package#0 for one
// device is refused by another, and a device enrolled on the shared secret is rotated off it.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';

import { DmDevice } from '../../src/client/device.ts';
import { encodeNotification } from '../../src/protocol/index.ts';
import { secretLeaf, WRITE_SECRET, writeOperation } from '../../src/gateway/server-secret.ts';
import { nodeName } from '../../src/gateway/names.ts';
import { LOCAL, readAccounts } from '../../src/tree/index.ts';
import { lanDevice, startGateway, startServer } from '../support/gw-pair.ts';

type Logged = { event: string; fields: Record<string, unknown> };

/** a device that records its log, and a wait on the first line matching */
function logging(): {
  lines: Logged[];
  log: (event: string, fields: Record<string, unknown>) => void;
  next: (match: (l: Logged) => boolean, ms?: number) => Promise<Logged>;
} {
  const lines: Logged[] = [];
  let waiters: (() => void)[] = [];
  return {
    lines,
    log: (event, fields) => {
      lines.push({ event, fields });
      for (const w of waiters.splice(0)) w();
    },
    next: (match, ms = 10_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching log line within ${ms} ms`)), ms);
        const look = (): void => {
          const hit = lines.find(match);
          if (hit) {
            clearTimeout(timer);
            resolve(hit);
          } else waiters.push(look);
        };
        look();
      }),
  };
}

async function sendUdp(bytes: Uint8Array, address: string): Promise<void> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => socket.send(bytes, port, host, (err) => (err ? reject(err) : resolve())));
  socket.close();
}

async function rig(
  t: { after(fn: () => unknown): void },
  lines: Record<string, ReturnType<typeof logging>> = {},
  gwLog?: ReturnType<typeof logging>,
) {
  const srv = await startServer();
  t.after(() => srv.close());
  const gw = await startGateway(srv.url, gwLog ? { log: gwLog.log } : {});
  t.after(() => gw.close());
  const devices: DmDevice[] = [];
  t.after(async () => {
    for (const d of devices) await d.stop();
  });
  const device = async (id: string): Promise<DmDevice> => {
    const d = new DmDevice(lanDevice(gw.gateway.lanUrl, id), undefined, lines[id]?.log);
    devices.push(d);
    await d.start();
    return d;
  };
  return { srv, gw, device };
}

test('a Package#0 for device A, delivered to device B, is refused by B (each holds its own server secret)', async (t) => {
  const b = logging();
  const { gw, device } = await rig(t, { 'IMEI:B': b });
  const [devA, devB] = [await device('IMEI:A'), await device('IMEI:B')];
  // the first session enrols each device and gives it its own secret
  assert.equal((await devA.session()).end, 'done');
  assert.equal((await devB.session()).end, 'done');
  const [rowA, rowB] = [gw.south.deviceNow('IMEI:A')!, gw.south.deviceNow('IMEI:B')!];
  assert.notEqual(rowA.serverPassword, 'lan-srv-pw', 'A was rotated off the shared secret');
  assert.notEqual(rowA.serverPassword, rowB.serverPassword);
  assert.equal(rowA.serverPasswordNext, undefined, 'nothing left pending once proven');

  // A's Package#0 lands on B's port (a LAN host whose HTTP came from another address)
  const forA = await gw.gateway.lan.service.notification('IMEI:A');
  await sendUdp(forA.bytes, devB.notifyAddress!);
  const refused = await b.next((l) => l.event === 'notification.ignored');
  assert.equal(refused.fields['reason'], 'digest does not verify');

  // and A's own port takes it: A opens the session
  const session = devA.nextSession();
  await sendUdp(forA.bytes, devA.notifyAddress!);
  assert.equal((await session).end, 'done');
});

test('a device enrolled on the shared secret is rotated: then only its own secret opens a session', async (t) => {
  const a = logging();
  const { gw, device } = await rig(t, { 'IMEI:A': a });
  const devA = await device('IMEI:A');
  const shared = () => readAccounts(devA.tree).find((x) => x.serverId === 'gwmo-gateway')!.server!.secret;
  assert.equal(shared(), 'lan-srv-pw', 'provisioned with the shared secret');
  assert.equal((await devA.session()).end, 'done');
  const own = gw.south.deviceNow('IMEI:A')!.serverPassword!;
  assert.notEqual(own, 'lan-srv-pw');
  assert.equal(shared(), own, 'the Replace reached the device');

  // a Package#0 keyed with the shared secret (what any LAN device could make) is refused
  const nonce = gw.south.deviceNow('IMEI:A')!.serverNonce ?? new Uint8Array(0);
  const forged = encodeNotification(
    { serverId: 'gwmo-gateway', sessionId: 7, uiMode: 0, initiator: 'server' },
    { password: 'lan-srv-pw', nonce },
  );
  await sendUdp(forged, devA.notifyAddress!);
  assert.equal((await a.next((l) => l.event === 'notification.ignored')).fields['reason'], 'digest does not verify');

  // the gateway's own Package#0 (its own secret) opens a session, authenticated both ways
  const session = devA.nextSession();
  await gw.gateway.lan.service.notify('IMEI:A');
  assert.equal((await session).end, 'done');
});

test('the secret rotated is the newest account for the gateway (the last listed), at its SRVCRED AppAuth', () => {
  const listed = [
    { uri: './DMAcc', data: undefined },
    { uri: './DMAcc/gwmo/ServerID', data: 'gwmo-gateway' },
    { uri: './DMAcc/gwmo/AppAuth/toclient/AAuthLevel', data: 'SRVCRED' },
    { uri: './DMAcc/other/ServerID', data: 'srv' },
    { uri: './DMAcc/other/AppAuth/a/AAuthLevel', data: 'SRVCRED' },
    { uri: './DMAcc/gateway/ServerID', data: 'gwmo-gateway' },
    { uri: './DMAcc/gateway/AppAuth/x/AAuthLevel', data: 'CLCRED' },
    { uri: './DMAcc/gateway/AppAuth/y/AAuthLevel', data: 'SRVCRED' },
  ];
  assert.equal(secretLeaf(listed, 'gwmo-gateway'), './DMAcc/gateway/AppAuth/y/AAuthSecret');
  assert.equal(secretLeaf(listed, 'srv'), './DMAcc/other/AppAuth/a/AAuthSecret');
  // no SRVCRED in the newest account, or no account: nothing to rotate
  assert.equal(secretLeaf(listed.slice(0, 7), 'gwmo-gateway'), undefined);
  assert.equal(secretLeaf(listed, 'nobody'), undefined);
});

test('a rotation cut short either side: the device answers a Package#0 and its session proves which secret it holds', {
  timeout: 30_000,
}, async (t) => {
  const { gw, device } = await rig(t);
  const south = gw.south;
  for (const [id, holds] of [
    ['IMEI:NEW', 'next'],
    ['IMEI:OLD', 'old'],
  ] as const) {
    const d = await device(id);
    assert.equal((await d.session()).end, 'done');
    const own = south.deviceNow(id)!.serverPassword!;
    // the state a crash leaves: both secrets stored, the device holding one of them, its nonce lost
    const other = `other-${id}`;
    await south.changeAccount(id, holds === 'next' ? { serverPassword: other, serverPasswordNext: own } : { serverPasswordNext: other });
    await south.changeAccount(id, { serverNonce: new Uint8Array([9, 9, 9, 9]) });
    // holding the old one, the Replace never reached it: still queued (the queue is stored with the secrets)
    if (holds === 'old')
      await south.queueOperation(writeOperation(id, './DMAcc/gwmo/AppAuth/toclient/AAuthSecret', other, Date.now()), Date.now());
    // something to run: the device answers it, and with it its verdict on the gateway's Cred
    await south.queueOperation({ id: `get-${id}`, deviceId: id, kind: 'Get', target: './DevInfo/Mod' }, Date.now());
    const session = d.nextSession();
    // the first Package#0 (new secret, stale nonce) may be refused; the resync one goes keyed with both
    await gw.gateway.lan.service.notify(id, 0, true);
    assert.equal((await session).end, 'done', `${id} answers`);
    assert.equal((await south.getOperation(`get-${id}`))?.status, 200);
    const row = south.deviceNow(id)!;
    assert.equal(row.serverPasswordNext, undefined, `${id}: proven, nothing pending`);
    const held = readAccounts(d.tree).find((a) => a.serverId === 'gwmo-gateway')!.server!.secret;
    assert.equal(row.serverPassword, held, `${id}: the gateway keeps what the device holds`);
  }
});

test('a device reset to its provisioned (shared) secret after its rotation: the shared one is tried last, and it gets a secret of its own again', {
  timeout: 20_000,
}, async (t) => {
  const log = logging();
  const { gw, device } = await rig(t, { 'IMEI:RESET': log });
  const first = await device('IMEI:RESET');
  assert.equal((await first.session()).end, 'done');
  const own = gw.south.deviceNow('IMEI:RESET')!.serverPassword!;
  assert.notEqual(own, 'lan-srv-pw');
  await first.stop();
  // the same device after a factory reset: a fresh tree, provisioned with the shared secret
  const reset = await device('IMEI:RESET');
  await gw.south.queueOperation({ id: 'get-mod', deviceId: 'IMEI:RESET', kind: 'Get', target: './DevInfo/Mod' }, Date.now());
  // before: the gateway's Cred (its own secret) refused, the ended session and the device answered each other for ever
  const r = await reset.session();
  assert.equal(r.end, 'done');
  assert.ok(r.messages < 10, `a handful of messages, not ${r.messages}`);
  assert.equal((await gw.south.getOperation('get-mod'))?.status, 200, 'what was queued ran once the shared secret was accepted');
  const again = gw.south.deviceNow('IMEI:RESET')!;
  assert.notEqual(again.serverPassword, 'lan-srv-pw', 'rotated again');
  assert.notEqual(again.serverPassword, own, 'to a new secret');
  const held = readAccounts(reset.tree).find((a) => a.serverId === 'gwmo-gateway')!.server!.secret;
  assert.equal(held, again.serverPassword, 'which the device holds');
  assert.equal((await reset.session()).end, 'done', 'and its next session authenticates the gateway at once');
});

/** the device's ServerSecret leaf in the gateway's inventory */
async function secretLeafOf(gw: Awaited<ReturnType<typeof startGateway>>, id: string): Promise<string | undefined> {
  const r = await gw.gateway.tree.get(LOCAL, `./GwMO/DevInventory/Devices/${nodeName(id)}/ServerSecret`);
  return r.status === 200 ? String(r.value?.[0]?.data) : `status ${r.status}`;
}

test('the rotated secret is not kept in the Replace operation record, nor in a log line', async (t) => {
  const gwLog = logging();
  const { gw, device } = await rig(t, {}, gwLog);
  const d = await device('IMEI:MASK');
  assert.equal((await d.session()).end, 'done');
  const own = gw.south.deviceNow('IMEI:MASK')!.serverPassword!;
  assert.notEqual(own, 'lan-srv-pw');
  const ops = await gw.south.listOperations('IMEI:MASK', { limit: 100 });
  const write = ops.find((op) => op.correlator === WRITE_SECRET);
  assert.deepEqual([write?.state, write?.status, write?.data], ['done', 200, '*****'], 'done, its data a mask');
  assert.ok(!JSON.stringify(ops).includes(own), 'no operation record holds the secret');
  assert.ok(!JSON.stringify(gwLog.lines).includes(own), 'no log line shows it');
  assert.equal(await secretLeafOf(gw, 'IMEI:MASK'), 'Own');
});

test('a device that refuses rotation is asked 3 times, then left on the shared secret and shown as Refused', {
  timeout: 20_000,
}, async (t) => {
  const gwLog = logging();
  const { gw } = await rig(t, {}, gwLog);
  // no SRVCRED account on the device (it does not authenticate the gateway): no secret to write
  const { serverPassword: _none, ...config } = lanDevice(gw.gateway.lanUrl, 'IMEI:STUBBORN');
  const d = new DmDevice(config);
  t.after(() => d.stop());
  await d.start();
  const rotations = () => gwLog.lines.filter((l) => l.event === 'server-secret.failed' && l.fields['deviceId'] === 'IMEI:STUBBORN');
  for (let i = 1; i <= 3; i++) {
    assert.equal((await d.session()).end, 'done');
    assert.equal(rotations().length, i, `failure ${i} counted`);
    assert.equal(gw.south.deviceNow('IMEI:STUBBORN')!.serverSecretFailures, i, 'in the store');
    if (i < 3) assert.equal(await secretLeafOf(gw, 'IMEI:STUBBORN'), 'Shared');
  }
  assert.equal(rotations()[2]!.fields['outcome'], 'gave-up');
  assert.equal(await secretLeafOf(gw, 'IMEI:STUBBORN'), 'Refused');
  const before = (await gw.south.listOperations('IMEI:STUBBORN', { limit: 100 })).length;
  assert.equal((await d.session()).end, 'done');
  assert.equal((await gw.south.listOperations('IMEI:STUBBORN', { limit: 100 })).length, before, 'no Get ./DMAcc any more');
  assert.equal(rotations().length, 3);
});

test('a device reset to the shared secret while a rotation of its own was open: each secret gets its try in one session', {
  timeout: 20_000,
}, async (t) => {
  const { gw, device } = await rig(t);
  const first = await device('IMEI:MIDWAY');
  assert.equal((await first.session()).end, 'done');
  await first.stop();
  // a rotation open (a new secret stored, its Replace not yet sent) when the device was reset
  await gw.south.changeAccount('IMEI:MIDWAY', { serverPasswordNext: 'never-reached-the-device' });
  const reset = await device('IMEI:MIDWAY');
  await gw.south.queueOperation({ id: 'get-midway', deviceId: 'IMEI:MIDWAY', kind: 'Get', target: './DevInfo/Mod' }, Date.now());
  // new secret, own secret, then the shared one: one re-send more per other secret the device may hold
  assert.equal((await reset.session()).end, 'done');
  assert.equal((await gw.south.getOperation('get-midway'))?.status, 200);
  assert.equal((await reset.session()).end, 'done');
  const row = gw.south.deviceNow('IMEI:MIDWAY')!;
  const held = readAccounts(reset.tree).find((a) => a.serverId === 'gwmo-gateway')!.server!.secret;
  assert.notEqual(held, 'lan-srv-pw', 'rotated off the shared secret again');
  assert.equal(row.serverPassword, held, 'the gateway keeps what the device holds');
});

test('a device reset to the shared secret whose first session has nothing to do is still reached by Package#0 (the resync one goes keyed with the shared secret too)', {
  timeout: 30_000,
}, async (t) => {
  const gwLog = logging();
  const { gw, device } = await rig(t, {}, gwLog);
  const first = await device('IMEI:EMPTY');
  assert.equal((await first.session()).end, 'done');
  await first.stop();
  // as a fleet does at start: a session with nothing queued, which cannot show which secret the device holds
  const reset = await device('IMEI:EMPTY');
  assert.equal((await reset.session()).end, 'done');
  await gw.south.queueOperation({ id: 'get-empty', deviceId: 'IMEI:EMPTY', kind: 'Get', target: './DevInfo/Mod' }, Date.now());
  // the first Package#0 is keyed with the device's own secret and ignored; the resync one (5 s later)
  // carries a copy keyed with the shared secret, which the reset device takes
  const opened = reset.nextSession();
  await gw.gateway.lan.service.notify('IMEI:EMPTY');
  assert.equal((await opened).end, 'done');
  assert.equal((await gw.south.getOperation('get-empty'))?.status, 200);
  await gwLog.next((l) => l.event === 'server-secret.reset' && l.fields['deviceId'] === 'IMEI:EMPTY');
});
