// `gwmo fleet`: DM and LwM2M fleets register with a gateway; Ctrl-C (SIGTERM) de-registers them.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GwmoProcess } from '../support/process.ts';
import { startGateway, startServer } from '../support/gw-pair.ts';

test('a DM fleet and an LwM2M fleet attach to the gateway; stopping the LwM2M fleet detaches it', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true });
  // an LwM2M device counts as attached once the gateway has read its object 3: wait for all seven
  let attached = 0;
  const allAttached = new Promise<void>((resolve) => gw.gateway.events.on('attached', () => ++attached === 7 && resolve()));
  const dm = new GwmoProcess([
    'fleet',
    '--count',
    '4',
    '--server-url',
    gw.gateway.lanUrl,
    '--password',
    'lan-pw',
    '--server-password',
    'lan-srv-pw',
    '--prefix',
    'DM:',
  ]);
  const lw = new GwmoProcess([
    'fleet',
    '--count',
    '3',
    '--protocol',
    'lwm2m',
    '--server-url',
    `coap://${gw.gateway.lwm2mAddress}`,
    '--prefix',
    'lw-',
  ]);
  try {
    assert.equal((await dm.waitFor((l) => l.event === 'fleet.started'))['count'], 4);
    assert.equal((await lw.waitFor((l) => l.event === 'fleet.started'))['count'], 3);
    await allAttached;
    const s = gw.gateway.inventory.summary();
    assert.deepEqual([s.total, s.attached, s.byMode['Proxy'], s.byMode['Adaptation']], [7, 7, 4, 3]);
    assert.equal(await lw.stop(), 0);
    assert.equal(gw.gateway.inventory.summary().attached, 4, 'de-registered LwM2M devices are detached');
  } finally {
    await dm.stop();
    await lw.stop();
    await gw.close();
    await srv.close();
  }
});

test('fleet: bad flags give one line and a non-zero exit', async () => {
  const { runCli } = await import('../support/cli.ts');
  const r = await runCli(['fleet', '--count', 'many']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^gwmo: --count/);
});
