// `gwmo device --protocol lwm2m --bootstrap coap://…`: a device with a bootstrap account only is
// told its server by the gateway's bootstrap server and registers there.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';

import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';
import { runCli } from '../support/cli.ts';
import { GwmoProcess } from '../support/process.ts';

test('gwmo device --bootstrap: bootstrapped by the gateway, then registered with it', async (t) => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true, lwm2mBootstrap: true });
  await gw.gateway.checkIn();
  const r = await srv.server.gateways!.putLwm2mCredentials('cli-fresh', { gateway: GW_ID, serverUri: '' }, 10_000);
  assert.equal(r.done, true);
  const registered = once(gw.gateway.lwm2m!, 'registered', { signal: AbortSignal.timeout(15_000) });
  const dev = new GwmoProcess([
    'device',
    '--protocol',
    'lwm2m',
    '--device-id',
    'cli-fresh',
    '--bootstrap',
    `coap://${gw.gateway.lwm2mBootstrapAddress}`,
  ]);
  t.after(async () => {
    await dev.stop();
    await gw.close();
    await srv.close();
  });
  const started = await dev.waitFor((l) => l.event === 'device.started');
  await registered;
  assert.equal(started['server'], `coap://${gw.gateway.lwm2mAddress}`);
  assert.equal(started['bootstrap'], `coap://${gw.gateway.lwm2mBootstrapAddress}`);
});

test('gwmo device --bootstrap coaps:// --psk-identity --psk: bootstrapped over DTLS, then registered over DTLS with the key it was given', async (t) => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2mDtls: true, lwm2mBootstrapDtls: true });
  await gw.gateway.checkIn();
  const BK = '6bc1bee22e409f96e93d7e117393172a';
  const r = await srv.server.gateways!.putLwm2mCredentials(
    'cli-secure',
    {
      gateway: GW_ID,
      identity: 'cli-secure',
      key: '2b7e151628aed2a6abf7158809cf4f3c',
      bootstrapIdentity: 'bs-cli-secure',
      bootstrapKey: BK,
    },
    10_000,
  );
  assert.equal(r.done, true);
  const registered = once(gw.gateway.lwm2m!, 'registered', { signal: AbortSignal.timeout(15_000) });
  const bootstrap = `coaps://${gw.gateway.lwm2mBootstrapSecureAddress}`;
  const dev = new GwmoProcess([
    'device',
    '--protocol',
    'lwm2m',
    '--device-id',
    'cli-secure',
    '--bootstrap',
    bootstrap,
    '--psk-identity',
    'bs-cli-secure',
    '--psk',
    BK,
  ]);
  t.after(async () => {
    await dev.stop();
    await gw.close();
    await srv.close();
  });
  const started = await dev.waitFor((l) => l.event === 'device.started');
  await registered;
  assert.equal(started['server'], gw.gateway.lwm2mSecureUri);
  assert.equal(gw.gateway.lwm2m!.registration('cli-secure')?.identity, 'cli-secure');
});

test('gwmo fleet --protocol lwm2m --bootstrap: each device is bootstrapped, then registers; coaps:// is refused for a fleet', async (t) => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true, lwm2mBootstrap: true });
  await gw.gateway.checkIn();
  for (const ep of ['bsf-0', 'bsf-1']) await srv.server.gateways!.putLwm2mCredentials(ep, { gateway: GW_ID, serverUri: '' }, 10_000);
  let attached = 0;
  const both = new Promise<void>((resolve) => gw.gateway.events.on('attached', () => ++attached === 2 && resolve()));
  const fleet = new GwmoProcess([
    'fleet',
    '--protocol',
    'lwm2m',
    '--count',
    '2',
    '--prefix',
    'bsf-',
    '--bootstrap',
    `coap://${gw.gateway.lwm2mBootstrapAddress}`,
  ]);
  t.after(async () => {
    await fleet.stop();
    await gw.close();
    await srv.close();
  });
  await fleet.waitFor((l) => l.event === 'fleet.started');
  await both;
  assert.ok(gw.gateway.lwm2m!.registration('bsf-1'));
  const bad = await runCli(['fleet', '--protocol', 'lwm2m', '--bootstrap', 'coaps://127.0.0.1:1']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^gwmo: --bootstrap coaps:\/\/… needs --psk-identity and --psk/);
});
