// Bad input across the NAT, each answered with a clear status to the server, logged by the gateway,
// and changing nothing else: a forged Package#0 digest, an unknown target device, a replayed
// notification, a device gone from the LAN.
//   server — wan 198.51.100.1;  gateway — 198.51.100.2 | 203.0.113.1;  devices — lan 203.0.113.2
// Actors: IMEI:42 holds an account with the gateway (proxy) and one with the server (transparent);
// IMEI:43 joins the gateway and then leaves the LAN. The test builds Package#0 bytes itself, with
// the same encoder the server uses, so it can forge and replay them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { encodeNotification, RESYNC_NONCE } from '../../src/protocol/index.ts';
import { type Call, callIn, callsIn, createTestNet, type TestNet, tearDownNet } from '../support/netns.ts';
import { AUTH, GwmoProcess, type LogLine } from '../support/process.ts';

const run = promisify(execFile);
let net: TestNet;
let dir = '';
const procs: GwmoProcess[] = [];
let server: GwmoProcess;
let gateway: GwmoProcess;
let td: GwmoProcess;

const GW = 'GW%3ANAT';
const API = 'http://198.51.100.1:8080/api';
const call = (method: string, path: string, body?: unknown) => callIn(net.wan, method, `${API}${path}`, body, AUTH);
const calls = (list: readonly Call[]) => callsIn(net.wan, list, AUTH);
const spawn = (ns: string, args: string[]): GwmoProcess => {
  const p = new GwmoProcess(args, net.exec(ns, []));
  procs.push(p);
  return p;
};
const count = (p: GwmoProcess, match: (l: LogLine) => boolean): number => p.lines.filter(match).length;
const serverSession = (l: LogLine): boolean => l.event === 'session.end' && l['serverId'] === 'gwmo';

/** Package#0 for IMEI:42 from server "gwmo", keyed with `password` (the real one is srv-td-pw). */
const package0 = (sessionId: number, password = 'srv-td-pw', uiMode: 0 | 1 = 0): Uint8Array =>
  encodeNotification({ serverId: 'gwmo', sessionId, uiMode, initiator: 'server' }, { password, nonce: RESYNC_NONCE });

/** Writes an EDTrigger entry on the gateway and Execs it: the DM status the server gets back. */
async function trigger(name: string, deviceId: string, bytes: Uint8Array): Promise<number> {
  const base = `./GwMO/EDTrigger/${name}`;
  const ops: Call[] = [
    { kind: 'Add', path: base, format: 'node' },
    { kind: 'Replace', path: `${base}/DeviceID`, value: deviceId },
    { kind: 'Replace', path: `${base}/Notification`, value: Buffer.from(bytes).toString('base64'), format: 'b64' },
    { kind: 'Exec', path: `${base}/Operations/Trigger` },
  ].map((body) => ({ method: 'POST', url: `${API}/devices/${GW}/operations`, body }));
  const queued = await calls([...ops, { method: 'POST', url: `${API}/devices/${GW}/notify` }]);
  assert.deepEqual(
    queued.map((r) => r.status),
    [201, 201, 201, 201, 202],
  );
  return (await call('GET', `/operations/${queued[3]!.json.id}?wait=20`)).json.status as number;
}

async function reason(name: string): Promise<string> {
  const [r] = await calls([
    { method: 'POST', url: `${API}/devices/${GW}/operations`, body: { kind: 'Get', path: `./GwMO/EDTrigger/${name}/Reason` } },
    { method: 'POST', url: `${API}/devices/${GW}/notify` },
  ]);
  return String((await call('GET', `/operations/${r!.json.id}?wait=20`)).json.results[0]?.value);
}

const inventory = async (): Promise<unknown> => (await call('GET', `/gateways/${GW}/devices?wait=20`)).json;

before(async () => {
  net = await createTestNet();
  dir = await mkdtemp(join(tmpdir(), 'gwmo-refuse-'));
  const { server: S, gwWan, gwLan, device: D } = net.addr;
  server = spawn(net.wan, ['server', '--host', S, '--port', '8080', '--db', ':memory:', '--server-id', 'gwmo']);
  await server.waitFor((l) => l.event === 'server.started');
  assert.equal(
    (
      await call('POST', '/devices', {
        deviceId: 'GW:NAT',
        name: 'gateway',
        password: 'gw-pw',
        serverName: 'gwmo',
        serverPassword: 'srv-pw',
      })
    ).status,
    201,
  );
  assert.equal(
    (
      await call('POST', '/devices', {
        deviceId: 'IMEI:42',
        name: 'td',
        password: 'td-pw',
        serverName: 'gwmo',
        serverPassword: 'srv-td-pw',
      })
    ).status,
    201,
  );
  assert.equal(
    (
      await call('POST', '/devices', {
        deviceId: 'IMEI:ghost',
        name: 'ghost',
        password: 'g-pw',
        serverName: 'gwmo',
        serverPassword: 'srv-g-pw',
      })
    ).status,
    201,
  );
  gateway = spawn(net.gw, [
    'gateway',
    '--device-id',
    'GW:NAT',
    '--server-url',
    `http://${S}:8080/dm`,
    '--password',
    'gw-pw',
    '--server-password',
    'srv-pw',
    '--lan-host',
    gwLan,
    '--lan-port',
    '8081',
    '--device-password',
    'lan-pw',
    '--notify-host',
    gwWan,
    '--notify-port',
    '2948',
    '--lwm2m-port',
    'off',
    '--check-in',
    '0',
    '--data-dir',
    dir,
  ]);
  await gateway.waitFor((l) => l.event === 'north.session' && l['end'] === 'done');
  const lanDevice = (id: string, port: number, more: string[] = []): GwmoProcess =>
    spawn(net.lan, [
      'device',
      '--device-id',
      id,
      '--server-url',
      `http://${gwLan}:8081/dm`,
      '--server-id',
      'gwmo-gateway',
      '--password',
      'lan-pw',
      '--server-password',
      'lan-pw',
      '--notify-host',
      D,
      '--notify-port',
      String(port),
      '--tree',
      ':memory:',
      ...more,
    ]);
  td = lanDevice('IMEI:42', 2948, [
    '--direct-server-url',
    `http://${S}:8080/dm`,
    '--direct-server-id',
    'gwmo',
    '--direct-username',
    'td',
    '--direct-password',
    'td-pw',
    '--direct-server-password',
    'srv-td-pw',
  ]);
  const leaving = lanDevice('IMEI:43', 2949);
  await Promise.all([td, leaving].map((d) => d.waitFor((l) => l.event === 'session.end' && l['end'] === 'done')));
  // IMEI:43 leaves the LAN (powered off): the gateway keeps it in its inventory, as it would in the field
  await leaving.stop();
});
after(() => tearDownNet(procs, net, dir));

test('a forged Package#0 from the WAN is dropped by the gateway (logged), which opens no session for it', async () => {
  const forged = encodeNotification(
    { serverId: 'gwmo', sessionId: 77, uiMode: 0, initiator: 'server' },
    { password: 'not-srv-pw', nonce: RESYNC_NONCE },
  );
  const ignored = gateway.next((l) => l.event === 'notification.ignored');
  const sessions = count(gateway, (l) => l.event === 'north.session');
  // a scripted peer on the WAN: the Package#0 is one UDP datagram to the gateway's notify port
  await run('ip', [
    'netns',
    'exec',
    net.wan,
    process.execPath,
    '--input-type=module',
    '-e',
    `import dgram from 'node:dgram'; const s = dgram.createSocket('udp4'); s.send(Buffer.from(${JSON.stringify(Buffer.from(forged).toString('base64'))}, 'base64'), 2948, ${JSON.stringify(net.addr.gwWan)}, () => s.close());`,
  ]);
  assert.equal((await ignored)['reason'], 'digest does not verify');
  // the server's own Package#0 still works, and opens exactly one session
  const next = gateway.next((l) => l.event === 'north.session');
  assert.equal((await call('POST', `/devices/${GW}/notify`)).status, 202);
  await next;
  assert.equal(
    count(gateway, (l) => l.event === 'north.session'),
    sessions + 1,
  );
});

test('a forged digest in transparent mode: the gateway forwards it (only the device holds the key), the device drops it and opens no session', async () => {
  const get = await call('POST', '/devices/IMEI%3A42/operations', { kind: 'Get', path: './DevInfo/Mod' });
  const dropped = td.next((l) => l.event === 'notification.ignored');
  const own = count(td, serverSession);
  const status = await trigger('forged', 'IMEI:42', package0(101, 'a-guess'));
  assert.equal(status, 200, "forwarded: the gateway cannot check a digest keyed with the device's credentials");
  assert.equal((await gateway.waitFor((l) => l.event === 'transparent.trigger' && l['entry'] === 'forged'))['status'], 200);
  assert.equal((await dropped)['reason'], 'digest does not verify');
  // the genuine one gets the queued Get done; the forged one had not opened a session
  const genuine = td.next(serverSession, 20_000);
  assert.equal(await trigger('genuine', 'IMEI:42', package0(102)), 200);
  await genuine;
  assert.equal(count(td, serverSession), own + 1);
  const done = await call('GET', `/operations/${get.json.id}?wait=20`);
  assert.deepEqual([done.json.state, done.json.status], ['done', 200]);
});

test('an unknown target device: 404 to the server (API and DM status), logged, inventory unchanged', async () => {
  const before = await inventory();
  const refused = await call('POST', '/devices/IMEI%3Aghost/notify', { via: 'GW:NAT' });
  assert.equal(refused.status, 404);
  assert.match(refused.json.error, /gateway GW:NAT did not forward the notification: DM status 404/);
  const logged = await gateway.waitFor((l) => l.event === 'transparent.trigger' && l['deviceId'] === 'IMEI:ghost');
  assert.deepEqual([logged['status'], logged['reason']], [404, 'no device IMEI:ghost behind this gateway']);
  const fan = await call('POST', `/gateways/${GW}/fanouts?wait=20`, {
    name: 'ghost',
    devices: ['IMEI:ghost'],
    commands: [{ kind: 'Get', path: './DevInfo/Mod' }],
  });
  assert.equal(fan.status, 409);
  assert.match(fan.json.error, /Operations\/Start → DM status 404/);
  const start = await gateway.waitFor((l) => l.event === 'fanout.refused' && l['job'] === 'ghost');
  assert.deepEqual([start['status'], start['reason']], [404, 'no device IMEI:ghost']);
  assert.deepEqual(await inventory(), before);
});

test('a replayed notification (same bytes, or the same session id again) is refused 409 with the reason; the device is not woken twice', async () => {
  const woken = count(td, (l) => l.event === 'notification.received');
  const first = td.next(serverSession, 20_000);
  assert.equal(await trigger('once', 'IMEI:42', package0(200)), 200);
  await first;
  assert.equal(await trigger('again', 'IMEI:42', package0(200)), 409);
  assert.equal(await trigger('same-id', 'IMEI:42', package0(200, 'srv-td-pw', 1)), 409);
  assert.match(await reason('again'), /replay/);
  for (const entry of ['again', 'same-id']) {
    const logged = await gateway.waitFor((l) => l.event === 'transparent.trigger' && l['entry'] === entry);
    assert.equal(logged['status'], 409);
  }
  // a later, genuine one still goes through: the only other wake-up the device saw
  const later = td.next(serverSession, 20_000);
  assert.equal(await trigger('later', 'IMEI:42', package0(201)), 200);
  await later;
  assert.equal(
    count(td, (l) => l.event === 'notification.received'),
    woken + 2,
  );
});

test('a device gone from the LAN: the fanout ends after the per-device timeout with 408 for it, reported and logged, not a hang', async () => {
  const before = await inventory();
  const started = Date.now();
  const fan = await call('POST', `/gateways/${GW}/fanouts?wait=20`, {
    name: 'gone',
    devices: ['IMEI:43'],
    timeout: 2,
    retries: 0,
    commands: [{ kind: 'Get', path: './DevInfo/Mod' }],
  });
  assert.equal(fan.status, 202, JSON.stringify(fan.json));
  const logged = await gateway.waitFor((l) => l.event === 'fanout.done' && l['job'] === 'gone', 20_000);
  assert.deepEqual(logged['statuses'], { 408: 1 });
  const job = await call('GET', `/gateways/${GW}/fanouts/gone?wait=20`);
  assert.deepEqual(
    [job.json.State, job.json.Aggregate, job.json.Results['1'].DeviceID, job.json.Results['1'].Status],
    ['30', { 408: '1' }, 'IMEI:43', '408'],
    JSON.stringify(job.json),
  );
  // the device never heard from the gateway's LAN server: nothing reached it
  // a guard: the 2 s option, not the gateway's 30 s default, ended it (25 s leaves a slow CI machine room)
  assert.ok(Date.now() - started < 25_000, 'ended by the 2 s device timeout');
  assert.deepEqual(await inventory(), before);
});
