// `gwmo device --protocol lwm2m --bootstrap coap://…`: a device with a bootstrap account only is
// told its server by the gateway's bootstrap server and registers there.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';

import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';
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
