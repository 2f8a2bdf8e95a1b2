// HLF-001: the gateway itself behind a second masquerade, with no inbound port. It keeps a long-poll
// open at the server; the server's notifications travel on it, and it comes back after the server
// restarts.
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
  net = await createTestNet({ edgeNat: true });
  dir = await mkdtemp(join(tmpdir(), 'gwmo-natgw-'));
});
after(() => tearDownNet(procs, net, dir));

const callIn = (ns: string, method: string, url: string, body?: unknown) => callInNs(ns, method, url, body, AUTH);

test('a gateway behind NAT gets its notifications over a long-poll and keeps it through a server restart', async () => {
  const { server: S, gwWan, gwLan, device: D } = net.addr;
  const serverArgs = ['server', '--host', S, '--port', '8080', '--data-dir', join(dir, 'server'), '--server-id', 'gwmo'];
  let server = new GwmoProcess(serverArgs, net.exec(net.wan, []));
  procs.push(server);
  await server.waitFor((l) => l.event === 'server.started');
  const api = `http://${S}:8080/api`;
  await callIn(net.wan, 'POST', `${api}/devices`, {
    deviceId: 'GW:EDGE',
    name: 'gateway',
    password: 'gw-pw',
    serverName: 'gwmo',
    serverPassword: 'srv-pw',
  });

  const gateway = new GwmoProcess(
    [
      'gateway',
      '--device-id',
      'GW:EDGE',
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
      '--push-channel',
      '--check-in',
      '0',
      '--data-dir',
      join(dir, 'gateway'),
    ],
    net.exec(net.gw, []),
  );
  procs.push(gateway);
  await gateway.waitFor((l) => l.event === 'push.channel' && l['state'] === 'connected');
  const device = new GwmoProcess(
    [
      'device',
      '--device-id',
      'IMEI:7',
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
    ],
    net.exec(net.lan, []),
  );
  procs.push(device);
  await device.waitFor((l) => l.event === 'session.end');

  // nothing on the WAN reaches the gateway: not its LAN port, not its WAN address
  const probe = await run('ip', [
    'netns',
    'exec',
    net.wan,
    process.execPath,
    '--input-type=module',
    '-e',
    `import net from 'node:net'; const s = net.connect(8081, ${JSON.stringify(gwWan)}); s.on('connect', () => { console.log('reached'); process.exit(0) }); s.on('error', (e) => { console.log(e.code); process.exit(0) });`,
  ]);
  assert.match(probe.stdout.trim(), /ENETUNREACH|EHOSTUNREACH/);

  const fanout = async (name: string) => {
    const started = await callIn(net.wan, 'POST', `${api}/gateways/GW%3AEDGE/fanouts?wait=20`, {
      name,
      devices: ['IMEI:7'],
      commands: [{ kind: 'Get', path: './DevInfo/Mod' }],
    });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    assert.equal(started.json.started, true, 'the gateway was woken through the push channel');
    await gateway.waitFor((l) => l.event === 'fanout.progress' && l['job'] === name && l['done'] === 1, 20_000);
    const job = await callIn(net.wan, 'GET', `${api}/gateways/GW%3AEDGE/fanouts/${name}?wait=20`);
    assert.deepEqual([job.json.State, job.json.Aggregate], ['30', { 200: '1' }]);
  };
  await fanout('first');

  // the server goes away and comes back: the gateway retries with backoff and reconnects
  const retrying = gateway.next((l) => l.event === 'push.channel' && l['state'] === 'retrying');
  assert.equal(await server.stop(), 0);
  await retrying;
  const reconnected = gateway.next((l) => l.event === 'push.channel' && l['state'] === 'connected', 40_000);
  server = new GwmoProcess(serverArgs, net.exec(net.wan, []));
  procs.push(server);
  await server.waitFor((l) => l.event === 'server.started');
  await reconnected;
  await fanout('second');
});
