// `gwmo fleet --quirks`: simulated DM devices that behave like deployed clients (docs/interop.md)
// enrol with a gateway all the same; a quirk the fleet does not know is refused with the list.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LENIENT_READING_QUIRKS } from '../../src/client/quirks.ts';
import { runCli } from '../support/cli.ts';
import { GwmoProcess } from '../support/process.ts';
import { startGateway, startServer } from '../support/gw-pair.ts';

test('a DM fleet with every lenient-reading quirk enrols with the gateway', async (t) => {
  const srv = await startServer();
  t.after(() => srv.close());
  const gw = await startGateway(srv.url);
  t.after(() => gw.close());
  const fleet = new GwmoProcess([
    'fleet',
    '--count',
    '2',
    '--server-url',
    gw.gateway.lanUrl,
    '--password',
    'lan-pw',
    '--server-password',
    'lan-srv-pw',
    '--prefix',
    'Q:',
    '--quirks',
    LENIENT_READING_QUIRKS.join(','),
  ]);
  t.after(() => fleet.stop());
  // startFleet throws (and the fleet exits) when a device's first session does not end `done`
  assert.equal((await fleet.waitFor((l) => l.event === 'fleet.started'))['count'], 2);
  assert.deepEqual(gw.gateway.inventory.summary().total, 2);
  assert.equal(await fleet.stop(), 0);
});

test('fleet: an unknown quirk gives one line naming the known ones and exit 2', async () => {
  const r = await runCli(['fleet', '--password', 'x', '--quirks', 'format-case,bogus']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^gwmo: --quirks: unknown quirk bogus; known: .*status-no-cmdref/);
});
