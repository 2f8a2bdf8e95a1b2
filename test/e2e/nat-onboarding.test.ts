// HLF-003 (adding a device) and HLF-005/006 (bootstrap) across real network boundaries: the server on
// the WAN, the gateway masquerading its LAN, the devices on the LAN; the server never reaches a device
// except through the gateway (or, after a bootstrap to the server, by the device's own sessions out
// through the NAT).
//   server — wan 198.51.100.1;  gateway — 198.51.100.2 | 203.0.113.1;  devices — lan 203.0.113.2
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { type Call, callIn, callsIn, createTestNet, type TestNet, tearDownNet } from '../support/netns.ts';
import { AUTH, GwmoProcess, type LogLine } from '../support/process.ts';

let net: TestNet;
let dir = '';
const procs: GwmoProcess[] = [];
let server: GwmoProcess;
let gateway: GwmoProcess;
let booting: { one: GwmoProcess; two: GwmoProcess };

const GW = 'GW%3ANAT';
const API = 'http://198.51.100.1:8080/api';
const call = (method: string, path: string, body?: unknown) => callIn(net.wan, method, `${API}${path}`, body, AUTH);
const calls = (list: readonly Call[]) => callsIn(net.wan, list, AUTH);
const spawn = (ns: string, args: string[]): GwmoProcess => {
  const p = new GwmoProcess(args, net.exec(ns, []));
  procs.push(p);
  return p;
};

/** A device on the LAN; `notifyPort` apart, so several can share the LAN namespace. */
function device(id: string, notifyPort: number, creds: string[], more: string[] = []): GwmoProcess {
  return spawn(net.lan, [
    'device',
    '--device-id',
    id,
    '--model',
    `M-${notifyPort}`,
    '--server-url',
    `http://${net.addr.gwLan}:8081/dm`,
    '--server-id',
    'gwmo-gateway',
    ...creds,
    '--server-password',
    'lan-pw',
    '--notify-host',
    net.addr.device,
    '--notify-port',
    String(notifyPort),
    '--tree',
    ':memory:',
    ...more,
  ]);
}

/** Queues DM operations for the gateway, wakes it (Package#0 over UDP to its WAN address), waits for their statuses. */
async function onGateway(ops: readonly Record<string, string>[]): Promise<{ id: string; status: number }[]> {
  const queued = await calls([
    ...ops.map((o) => ({ method: 'POST', url: `${API}/devices/${GW}/operations`, body: o })),
    { method: 'POST', url: `${API}/devices/${GW}/notify` },
  ]);
  assert.deepEqual(
    queued.map((r) => r.status),
    [...ops.map(() => 201), 202],
    JSON.stringify(queued),
  );
  const settled = await calls(queued.slice(0, -1).map((r) => ({ method: 'GET', url: `${API}/operations/${r.json.id}?wait=20` })));
  return settled.map((r) => ({ id: r.json.id, status: r.json.status }));
}

/** the device's one-command fanout through the gateway: its aggregate and what it answered */
async function fanout(name: string, deviceId: string, path: string): Promise<[unknown, unknown]> {
  const started = await call('POST', `/gateways/${GW}/fanouts?wait=20`, { name, devices: [deviceId], commands: [{ kind: 'Get', path }] });
  assert.equal(started.status, 202, JSON.stringify(started.json));
  await gateway.waitFor((l) => l.event === 'fanout.progress' && l['job'] === name && l['done'] === 1, 20_000);
  const job = await call('GET', `/gateways/${GW}/fanouts/${name}?wait=20`);
  return [job.json.Aggregate, job.json.Results?.['1']?.Cmd?.['1']?.Data];
}

const bootstrapOps = (deviceId: string, b: Record<string, string>): Record<string, string>[] => [
  ...Object.entries(b).map(([k, value]) => ({ kind: 'Replace', path: `./GwMO/DevInventory/Devices/${deviceId}/Bootstrap/${k}`, value })),
  { kind: 'Exec', path: `./GwMO/DevInventory/Devices/${deviceId}/Bootstrap/Operations/Start` },
];
/** the server saw Exec Start answered 202, then the gateway's bootstrap alert with 200 */
async function bootstrapped(execId: string): Promise<void> {
  const settled = (status: number) =>
    server.waitFor((l) => l.event === 'operation.done' && l['id'] === execId && l['status'] === status, 20_000);
  await settled(202);
  await settled(200);
}
const sessionDone = (l: LogLine): boolean => l.event === 'session.end' && l['end'] === 'done';

before(async () => {
  net = await createTestNet();
  dir = await mkdtemp(join(tmpdir(), 'gwmo-onboard-'));
  const { server: S, gwWan, gwLan } = net.addr;
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
  // the two devices the bootstrap tests work on join with the LAN secret; started together to save time
  booting = {
    one: device('IMEI:B00T1', 2952, ['--password', 'lan-pw'], ['--tree', join(dir, 'boot1.db')]),
    two: device('IMEI:B00T2', 2954, ['--password', 'lan-pw']),
  };
  await Promise.all([booting.one, booting.two].map((d) => d.waitFor(sessionDone)));
});
after(() => tearDownNet(procs, net, dir));

test('HLF-003 behind the NAT: an announced device joins with its own credentials, the LAN secret does not open its account, and it is managed at once', async () => {
  const id = 'IMEI:990000000000001';
  const base = `./GwMO/DevInventory/Devices/${id}`;
  const announced = await onGateway([
    { kind: 'Replace', path: './GwMO/Config/InventoryAlerts/Attach', value: 'true' },
    { kind: 'Add', path: base, format: 'node' },
    { kind: 'Add', path: `${base}/Credentials/AuthName`, value: 'meter-1' },
    { kind: 'Add', path: `${base}/Credentials/AuthSecret`, value: 'its-own-secret' },
  ]);
  assert.deepEqual(
    announced.map((o) => o.status),
    [200, 200, 200, 200],
  );

  const impostor = device(id, 2950, ['--username', 'device', '--password', 'lan-pw'], ['--once']);
  assert.equal(await new Promise((resolve) => impostor.child.once('exit', resolve)), 1);
  assert.match(impostor.stderr, /session auth-failed/);

  const attached = gateway.next(
    (l) => l.event === 'alert.queued' && String(l['type']).includes('deviceattached') && String(l['source']).endsWith(id),
    20_000,
  );
  const real = device(id, 2951, ['--username', 'meter-1', '--password', 'its-own-secret']);
  await real.waitFor(sessionDone);
  await attached;
  const row = await call('GET', `/gateways/${GW}/devices/${encodeURIComponent(id)}?wait=20`);
  assert.deepEqual([row.json.Mode, row.json.Mod], ['2', 'M-2951'], JSON.stringify(row.json));
  assert.deepEqual(await fanout('new-one', id, './DevInfo/Mod'), [{ 200: '1' }, 'M-2951']);
});

test('HLF-005 behind the NAT: bootstrap to the gateway gives the device per-device credentials (proxy mode); the LAN secret no longer opens its account', async () => {
  const id = 'IMEI:B00T1';
  // incomplete first: 412, nothing started
  const [early] = await onGateway([{ kind: 'Exec', path: `./GwMO/DevInventory/Devices/${id}/Bootstrap/Operations/Start` }]);
  assert.equal(early!.status, 412);
  const ops = await onGateway(
    bootstrapOps(id, {
      Target: '1',
      ServerID: 'gwmo-gateway',
      ServerURI: `http://${net.addr.gwLan}:8081/dm`,
      AuthName: 'meter-b1',
      AuthSecret: 'per-device',
      ServerSecret: 'lan-pw',
    }),
  );
  assert.deepEqual(
    ops.slice(0, -1).map((o) => o.status),
    [200, 200, 200, 200, 200, 200],
  );
  // Exec Start is answered 202; the outcome comes back as the bootstrap Generic Alert, which settles the Exec at the server
  await bootstrapped(ops.at(-1)!.id);
  assert.ok(gateway.lines.some((l) => l.event === 'alert.queued' && l['type'] === 'urn:x-gwmo:at:bootstrap:1.0'));
  // the gateway now accepts only the new account for it, and the device's next session works
  assert.deepEqual(await fanout('after-boot', id, './DevInfo/Mod'), [{ 200: '1' }, 'M-2952']);
  const impostor = device(id, 2953, ['--password', 'lan-pw'], ['--once']);
  assert.equal(await new Promise((resolve) => impostor.child.once('exit', resolve)), 1);
  assert.match(impostor.stderr, /session auth-failed/);
  // the device itself, restarted on its tree (twice: the store reloads what the first restart rewrote), keeps using the new account
  assert.equal(await booting.one.stop(), 0);
  for (const round of [1, 2]) {
    const again = device(id, 2952, ['--password', 'lan-pw'], ['--tree', join(dir, 'boot1.db')]);
    assert.equal((await again.waitFor((l) => l.event === 'session.end'))['end'], 'done', `restart ${round}`);
    await again.stop(); // its exit code is not the point (a SIGTERM right after its first session may beat its handler)
  }
});

test('HLF-006 behind the NAT: bootstrap to the server (transparent mode), then the device opens its own session out through the NAT', async () => {
  const id = 'IMEI:B00T2';
  const { server: S, gwWan } = net.addr;
  assert.equal(
    (
      await call('POST', '/devices', {
        deviceId: id,
        name: 'boot-td',
        password: 'boot-pw',
        serverName: 'gwmo',
        serverPassword: 'boot-srv-pw',
      })
    ).status,
    201,
  );
  const d = booting.two;
  const ops = await onGateway(
    bootstrapOps(id, {
      Target: '2',
      ServerID: 'gwmo',
      ServerURI: `http://${S}:8080/dm`,
      AuthName: 'boot-td',
      AuthSecret: 'boot-pw',
      ServerSecret: 'boot-srv-pw',
    }),
  );
  await bootstrapped(ops.at(-1)!.id);
  const row = await call('GET', `/gateways/${GW}/devices/${encodeURIComponent(id)}?wait=20`);
  assert.equal(row.json.Mode, '1', 'transparent mode now');

  // the server wakes it through the gateway; the device itself answers the server
  const get = await call('POST', `/devices/${encodeURIComponent(id)}/operations`, { kind: 'Get', path: './DevInfo/Mod' });
  const own = d.next((l) => sessionDone(l) && l['serverId'] === 'gwmo', 20_000);
  assert.equal((await call('POST', `/devices/${encodeURIComponent(id)}/notify`, { via: 'GW:NAT' })).status, 202);
  await own;
  const done = await call('GET', `/operations/${get.json.id}?wait=20`);
  assert.deepEqual([done.json.state, done.json.status, done.json.results[0]?.value], ['done', 200, 'M-2954']);
  // it reached the server from the gateway's WAN address: out through the masquerade
  assert.match(
    (await call('GET', `/devices/${encodeURIComponent(id)}`)).json.notifyAddress,
    new RegExp(`^${gwWan.replace(/\./g, '\\.')}:`),
  );
});
