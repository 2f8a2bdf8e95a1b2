// Across real network boundaries (Linux network namespaces, masquerading gateway): the server
// cannot reach the device on the LAN, yet manages it — in proxy mode through the gateway, and in
// transparent mode with the gateway forwarding its Package#0.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { callIn as callInNs, createTestNet, type TestNet, tearDownNet } from '../support/netns.ts';
import { AUTH, GwmoProcess } from '../support/process.ts';

const run = promisify(execFile);
let net: TestNet;
let dir = '';
const procs: GwmoProcess[] = [];

before(async () => {
  net = await createTestNet();
  dir = await mkdtemp(join(tmpdir(), 'gwmo-nat-'));
});
after(() => tearDownNet(procs, net, dir));

const callIn = (ns: string, method: string, url: string, body?: unknown) => callInNs(ns, method, url, body, AUTH);

test('behind a masquerading gateway: no route from the server to the device, yet proxy, transparent and adaptation mode work', async () => {
  const { server: S, gwWan, gwLan, device: D } = net.addr;
  const server = new GwmoProcess(
    ['server', '--host', S, '--port', '8080', '--db', ':memory:', '--server-id', 'gwmo'],
    net.exec(net.wan, []),
  );
  procs.push(server);
  await server.waitFor((l) => l.event === 'server.started');
  const api = `http://${S}:8080/api`;
  assert.equal(
    (
      await callIn(net.wan, 'POST', `${api}/devices`, {
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
      await callIn(net.wan, 'POST', `${api}/devices`, {
        deviceId: 'IMEI:42',
        name: 'td',
        password: 'td-pw',
        serverName: 'gwmo',
        serverPassword: 'srv-td-pw',
      })
    ).status,
    201,
  );

  const gateway = new GwmoProcess(
    [
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
      '--lwm2m-host',
      gwLan,
      '--lwm2m-port',
      '5683',
      '--check-in',
      '0',
      '--data-dir',
      dir,
    ],
    net.exec(net.gw, []),
  );
  procs.push(gateway);
  await gateway.waitFor((l) => l.event === 'north.session');

  const device = new GwmoProcess(
    [
      'device',
      '--device-id',
      'IMEI:42',
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
      '2948',
      '--tree',
      ':memory:',
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
    ],
    net.exec(net.lan, []),
  );
  procs.push(device);
  assert.equal((await device.waitFor((l) => l.event === 'session.end'))['end'], 'done', 'the device enrolled with the gateway');

  // the WAN has no route to the LAN
  const probe = await run('ip', [
    'netns',
    'exec',
    net.wan,
    process.execPath,
    '--input-type=module',
    '-e',
    `import net from 'node:net'; const s = net.connect(8081, ${JSON.stringify(gwLan)}); s.on('connect', () => { console.log('reached'); process.exit(0) }); s.on('error', (e) => { console.log(e.code); process.exit(0) });`,
  ]);
  assert.match(probe.stdout.trim(), /ENETUNREACH|EHOSTUNREACH/);

  // proxy mode: the server asks the gateway (a fanout), the gateway asks the device
  const fan = await callIn(net.wan, 'POST', `${api}/gateways/GW%3ANAT/fanouts?wait=20`, {
    name: 'mods',
    devices: ['IMEI:42'],
    commands: [{ kind: 'Get', path: './DevInfo/Mod' }],
  });
  assert.equal(fan.status, 202, JSON.stringify(fan.json));
  await gateway.waitFor((l) => l.event === 'fanout.progress' && l['job'] === 'mods' && l['done'] === 1, 20_000);
  const job = await callIn(net.wan, 'GET', `${api}/gateways/GW%3ANAT/fanouts/mods?wait=20`);
  assert.deepEqual([job.json.State, job.json.Aggregate], ['30', { 200: '1' }]);

  // transparent mode: the server's own Package#0 for the device travels through the gateway
  const get = await callIn(net.wan, 'POST', `${api}/devices/IMEI%3A42/operations`, { kind: 'Get', path: './DevInfo/DevId' });
  const notify = await callIn(net.wan, 'POST', `${api}/devices/IMEI%3A42/notify`, { via: 'GW:NAT' });
  assert.equal(notify.status, 202, JSON.stringify(notify.json));
  const done = await callIn(net.wan, 'GET', `${api}/operations/${get.json.id}?wait=20`);
  assert.deepEqual([done.json.state, done.json.status, done.json.results[0]?.value], ['done', 200, 'IMEI:42']);
  // the device's session reached the server from the gateway's WAN address: masqueraded
  const seen = await callIn(net.wan, 'GET', `${api}/devices/IMEI%3A42`);
  assert.equal(seen.json.notifyAddress, `${gwWan}:2948`);

  // adaptation mode: an LwM2M device on the LAN, read and written from the server
  const lw = new GwmoProcess(
    ['device', '--protocol', 'lwm2m', '--device-id', 'lw-nat', '--server-url', `coap://${gwLan}:5683`, '--notify-host', D],
    net.exec(net.lan, []),
  );
  procs.push(lw);
  await lw.waitFor((l) => l.event === 'device.started');
  const lwJob = await callIn(net.wan, 'POST', `${api}/gateways/GW%3ANAT/fanouts?wait=20`, {
    name: 'lw',
    devices: ['lw-nat'],
    commands: [
      { kind: 'Get', path: './3/0/0' },
      { kind: 'Replace', path: './3303/0/5750', value: 'attic' },
    ],
  });
  assert.equal(lwJob.status, 202, JSON.stringify(lwJob.json));
  await gateway.waitFor((l) => l.event === 'fanout.progress' && l['job'] === 'lw' && l['done'] === 1, 20_000);
  const lwDone = await callIn(net.wan, 'GET', `${api}/gateways/GW%3ANAT/fanouts/lw?wait=20`);
  assert.deepEqual([lwDone.json.Aggregate, lwDone.json.Results['1'].Cmd['1'].Data], [{ 200: '1' }, 'gwmo']);
});
