// `gwmo campaign …` against a live server, gateway and devices: create with a canary and waves,
// show, report as CSV, and one-line errors for what cannot be done.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { rig, sha } from '../support/campaign-rig.ts';
import { runCli } from '../support/cli.ts';
import { GW_ID } from '../support/gw-pair.ts';

const dm = (i: number) => `IMEI:${String(i).padStart(15, '0')}`;

test('create, show, report --format csv; pause of a finished campaign and a bad --canary are one-line errors', async (t) => {
  const r = await rig(t, 3);
  const cli = (args: string[]) => runCli(['campaign', ...args, '--api', r.api]);
  const created = await cli([
    'create',
    GW_ID,
    'fw2',
    '--name',
    'cli',
    '--object',
    'fumo',
    '--device',
    dm(0),
    dm(1),
    dm(2),
    '--canary',
    '1',
    '--waves',
    '1,1',
    '--concurrency',
    '1',
  ]);
  assert.equal(created.code, 0, created.stderr);
  assert.deepEqual(
    JSON.parse(created.stdout.toString()).waves.map((w: any) => [w.name, w.devices]),
    [
      ['canary', 1],
      ['wave 1', 1],
      ['wave 2', 1],
    ],
  );
  await r.until('cli', (c) => c.state === 'done');
  const shown = await cli(['show', 'cli']);
  assert.equal(JSON.parse(shown.stdout.toString()).byResult['200 Successful'], 3);
  const csv = await cli(['report', 'cli', '--format', 'csv']);
  assert.equal(csv.code, 0, csv.stderr);
  assert.equal(csv.stdout.toString().split('\r\n')[3], `2,wave 2,${dm(2)},fumo,succeeded,200,200,Successful,${GW_ID}`);
  const pause = await cli(['pause', 'cli']);
  assert.equal(pause.code, 1);
  assert.equal(pause.stderr.toString(), 'gwmo: POST /campaigns/cli/pause: HTTP 409: campaign "cli" is done: it cannot pause\n');
  const bad = await cli(['create', GW_ID, 'fw2', '--device', dm(0), '--canary', 'some']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr.toString(), /^gwmo: --canary must be a number, not "some"\n$/);
});

test('create "*" with --target GW=*: a campaign across gateways on all their devices; a bad --target is a one-line error', async (t) => {
  const r = await rig(t, 2);
  const cli = (args: string[]) => runCli(['campaign', ...args, '--api', r.api]);
  const created = await cli(['create', '*', sha, '--name', 'far', '--object', 'fumo', '--target', `${GW_ID}=*`]);
  assert.equal(created.code, 0, created.stderr);
  const shown = JSON.parse(created.stdout.toString());
  assert.equal(shown.gatewayId, '*');
  assert.deepEqual(shown.gateways, [{ id: GW_ID, image: 'fw2' }]);
  await r.until('far', (c) => c.state === 'done');
  const report = JSON.parse((await cli(['report', 'far'])).stdout.toString());
  assert.deepEqual(report.gateways, [{ gateway: GW_ID, devices: 2, succeeded: 2, failed: 0, byResult: { '200 Successful': 2 } }]);
  const bad = await cli(['create', '*', sha, '--target', GW_ID]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.toString(), `gwmo: --target must be GATEWAY=DEVICE,…,@GROUP or GATEWAY=*, not "${GW_ID}"\n`);
  const mixed = await cli(['create', GW_ID, 'fw2', '--target', `${GW_ID}=${dm(0)}`]);
  assert.equal(mixed.code, 2);
  assert.match(mixed.stderr.toString(), /--target is for a campaign across gateways/);
});
