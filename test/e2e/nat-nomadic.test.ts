// HLF-002, B.4, B.7 across real network boundaries: two gateways, each masquerading its own LAN, on
// one WAN with the server. A device managed through gateway A is unplugged and plugged into B's LAN
// (its namespace's link moves; the process restarts there with the same DevId and tree file). B,
// unknown to the server, enrolled with the enrolment credential across its NAT; a gateway with a
// wrong credential was refused. The server's location for the device moves to B and the job queued
// while it was away is carried out through B.
//   server — wan 198.51.100.1;  gateway A — 198.51.100.2 | LAN 203.0.113.0/25;
//   gateway B — 198.51.100.3 | LAN 203.0.113.128/25;  the device — roam namespace, .3 at A, .131 at B
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { callIn as call, createTwoGatewayNet, type Site, type TwoGatewayNet, tearDownNet } from '../support/netns.ts';
import { AUTH, GwmoProcess } from '../support/process.ts';

let net: TwoGatewayNet;
let dir = '';
const procs: GwmoProcess[] = [];

before(async () => {
  net = await createTwoGatewayNet();
  dir = await mkdtemp(join(tmpdir(), 'gwmo-nomad-'));
});
after(() => tearDownNet(procs, net, dir));

const spawn = (ns: string, args: string[]): GwmoProcess => {
  const p = new GwmoProcess(args, net.exec(ns, []));
  procs.push(p);
  return p;
};

test("a device moves from gateway A's NAT to gateway B's: B enrols, announces it, and the job queued meanwhile runs through B", async () => {
  const { server: S, gwWan, gwLan, roam } = net.addr;
  const api = `http://${S}:8080/api`;
  const callIn = (method: string, url: string, body?: unknown) => call(net.wan, method, `${api}${url}`, body, AUTH);
  const server = spawn(net.wan, [
    'server',
    '--host',
    S,
    '--port',
    '8080',
    '--db',
    ':memory:',
    '--server-id',
    'gwmo',
    '--enrolment-secret',
    'enrol-me',
  ]);
  await server.waitFor((l) => l.event === 'server.started');
  assert.equal(
    (await callIn('POST', '/devices', { deviceId: 'GW:A', name: 'gw-a', password: 'gw-pw', serverName: 'gwmo', serverPassword: 'srv-pw' }))
      .status,
    201,
  );

  const gatewayArgs = (site: Site, id: string, credential: string[], data = `gw-${site}`): string[] => [
    'gateway',
    '--device-id',
    id,
    '--server-url',
    `http://${S}:8080/dm`,
    ...credential,
    '--lan-host',
    gwLan[site],
    '--lan-port',
    '8081',
    '--device-password',
    'lan-pw',
    '--notify-host',
    gwWan[site],
    '--notify-port',
    '2948',
    '--lwm2m-port',
    'off',
    '--check-in',
    '0',
    '--data-dir',
    join(dir, data),
  ];
  const a = spawn(net.gw.a, gatewayArgs('a', 'GW:A', ['--username', 'gw-a', '--password', 'gw-pw', '--server-password', 'srv-pw']));
  // B is not known to the server: with a wrong enrolment credential it is refused (started beside A to save time)
  const impostor = spawn(net.gw.b, gatewayArgs('b', 'GW:B', ['--enrol-secret', 'guess'], 'refused'));
  const impostorExit = new Promise<number | null>((resolve) => impostor.child.once('exit', resolve));
  await a.waitFor((l) => l.event === 'north.session' && l['end'] === 'done');
  // A holds on to a job whose device left: only the device's new gateway is to finish it
  const cfgA = await callIn('PUT', '/gateways/GW%3AA/config?wait=20', { 'InventoryAlerts/Attach': true, 'Fanout/DeviceTimeout': 120 });
  assert.equal(cfgA.status, 200, JSON.stringify(cfgA.json));

  // the refused gateway said why and exited; the server logged it and created nothing
  assert.equal(await impostorExit, 1);
  assert.match(impostor.stderr, /enrolment at http:\/\/198\.51\.100\.1:8080\/enrol refused: HTTP 403 wrong enrolment credential/);
  const refused = await server.waitFor((l) => l.event === 'enrol.refused');
  assert.equal(refused['deviceId'], 'GW:B');
  assert.equal((await callIn('GET', '/devices/GW%3AB')).status, 404, 'no account was created');

  const tree = join(dir, 'roamer.db');
  const device = (site: Site): GwmoProcess =>
    spawn(net.roam, [
      'device',
      '--device-id',
      'IMEI:777',
      '--model',
      'Roamer',
      '--server-url',
      `http://${gwLan[site]}:8081/dm`,
      '--server-id',
      'gwmo-gateway',
      '--password',
      'lan-pw',
      '--server-password',
      'lan-pw',
      '--notify-host',
      roam[site],
      '--notify-port',
      '2948',
      '--tree',
      tree,
    ]);
  /** resolves once the gateway has told the server about the device (its deviceattached alert went north) */
  const announced = (gw: GwmoProcess): Promise<unknown> =>
    gw
      .next((l) => l.event === 'alert.queued' && String(l['type']).includes('deviceattached'))
      .then(() => gw.next((l) => l.event === 'north.session', 20_000));

  // …the right one gets B an account, across its NAT; meanwhile (to save time) the device enrols on A's LAN
  const atA = announced(a);
  const b = spawn(net.gw.b, gatewayArgs('b', 'GW:B', ['--enrol-secret', 'enrol-me']));
  const first = device('a');
  await server.waitFor((l) => l.event === 'enrol.accepted' && l['deviceId'] === 'GW:B');
  await b.waitFor((l) => l.event === 'north.session' && l['end'] === 'done');
  const cfgB = await callIn('PUT', '/gateways/GW%3AB/config?wait=20', { 'InventoryAlerts/Attach': true });
  assert.equal(cfgB.status, 200, JSON.stringify(cfgB.json));
  assert.equal((await callIn('GET', '/devices/GW%3AB')).json.name.startsWith('enrolled-'), true);

  // at A: A announces the device and the server manages it through A
  await first.waitFor((l) => l.event === 'session.end' && l['end'] === 'done');
  await atA;
  assert.equal((await callIn('GET', '/devices/IMEI%3A777/location')).json.gatewayId, 'GW:A');
  const viaA = await callIn('POST', '/devices/IMEI%3A777/jobs', {
    commands: [
      { kind: 'Get', path: './DevInfo/Mod' },
      { kind: 'Add', path: './Trip', value: 'left from A' },
    ],
  });
  assert.equal(viaA.status, 202, JSON.stringify(viaA.json));
  const doneA = await callIn('GET', `/jobs/${viaA.json.id}?wait=30`);
  assert.deepEqual(
    [doneA.json.state, doneA.json.status, doneA.json.gatewayId, doneA.json.results?.[0]?.data],
    ['done', 200, 'GW:A', 'Roamer'],
  );

  // it leaves A's LAN; a job queued now goes to A, where it waits
  assert.equal(await first.stop(), 0);
  const away = await callIn('POST', '/devices/IMEI%3A777/jobs', {
    commands: [
      { kind: 'Get', path: './Trip' },
      { kind: 'Replace', path: './Trip', value: 'at B' },
    ],
  });
  assert.deepEqual([away.status, away.json.state, away.json.gatewayId], [202, 'dispatched', 'GW:A']);
  await net.moveTo('b');

  // at B: same DevId, same tree (what A wrote is still there); B registers it and alerts the server, which sends the job there
  const moved = server.next((l) => l.event === 'device.moved', 20_000);
  const jobDone = server.next((l) => l.event === 'job.done' && l['job'] === away.json.id, 30_000);
  device('b');
  assert.deepEqual(await moved.then((l) => [l['deviceId'], l['from'], l['to']]), ['IMEI:777', 'GW:A', 'GW:B']);
  assert.equal((await jobDone)['gateway'], 'GW:B');
  const doneB = await callIn('GET', `/jobs/${away.json.id}?wait=30`);
  assert.deepEqual(
    [
      doneB.json.state,
      doneB.json.status,
      doneB.json.gatewayId,
      doneB.json.results?.map((r: { status: number }) => r.status),
      doneB.json.results?.[0]?.data,
    ],
    ['done', 200, 'GW:B', [200, 200], 'left from A'],
  );
  assert.equal((await callIn('GET', '/devices/IMEI%3A777/location')).json.gatewayId, 'GW:B');
});
