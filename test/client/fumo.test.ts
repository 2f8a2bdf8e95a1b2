// FUMO 1.0 on the simulated device, driven by a real DM server over HTTP: each Exec answered 202,
// then reported by a Generic Alert 1226 (Source the Exec'd node, the operation's Type, Data the
// FUMO result code, the Exec's Correlator), State following FUMO §6.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FUMO_OPERATIONS, FumoState } from '../../src/tree/index.ts';
import { startUpdateRig } from '../support/update-rig.ts';

const dlu = (url: string, hash?: string) => [
  { kind: 'Replace' as const, path: './FUMO/PkgName', value: 'meter-fw' },
  { kind: 'Replace' as const, path: './FUMO/PkgVersion', value: '2.0' },
  { kind: 'Replace' as const, path: './FUMO/DownloadAndUpdate/PkgURL', value: url },
  ...(hash ? [{ kind: 'Replace' as const, path: './FUMO/Ext/PkgHash', value: `sha256:${hash}` }] : []),
  { kind: 'Exec' as const, path: './FUMO/DownloadAndUpdate' },
];

test('DownloadAndUpdate: 202, then a 1226 alert with the result code 200 and the Correlator; State 100, DevDetail/FwV the new version', async (t) => {
  const r = await startUpdateRig(t);
  assert.equal(r.device.tree.read('./FUMO/State'), String(FumoState.Idle));
  const out = await r.run(dlu(r.pkgUrl, r.sha));
  assert.deepEqual(
    out.ops.map((o) => o.status),
    [200, 200, 200, 200, 200],
  );
  assert.equal(out.exec.state, 'done');
  const item = out.alert!.items[0] as Record<string, unknown>;
  assert.equal(out.alert!.code, 1226);
  assert.deepEqual([item['source'], item['type'], item['data']], ['./FUMO/DownloadAndUpdate', FUMO_OPERATIONS.DownloadAndUpdate, '200']);
  assert.equal(out.exec.results?.[0]?.data, '200', 'the FUMO result code is kept with the operation');
  assert.equal(r.device.tree.read('./FUMO/State'), String(FumoState.UpdateSuccessfulNoData));
  assert.equal(r.device.tree.read('./DevDetail/FwV'), '2.0');
  assert.deepEqual(r.device.fumo.installed, { sha256: r.sha, bytes: r.bytes.length, requests: 1 });
});

test('Download, then Update: two alerts, State 40 in between', async (t) => {
  const r = await startUpdateRig(t);
  const dl = await r.run([
    { kind: 'Replace', path: './FUMO/Download/PkgURL', value: r.pkgUrl },
    { kind: 'Exec', path: './FUMO/Download' },
  ]);
  assert.deepEqual([dl.alert!.items[0]!['type'], dl.alert!.items[0]!['data']], [FUMO_OPERATIONS.Download, '200']);
  assert.equal(r.device.tree.read('./FUMO/State'), String(FumoState.DownloadComplete));
  assert.equal(r.device.fumo.installed === undefined, true, 'downloaded, not installed');
  const up = await r.run([{ kind: 'Exec', path: './FUMO/Update' }]);
  assert.deepEqual(
    [up.alert!.items[0]!['source'], up.alert!.items[0]!['type'], up.alert!.items[0]!['data']],
    ['./FUMO/Update', FUMO_OPERATIONS.Update, '200'],
  );
  assert.equal(r.device.fumo.installed?.sha256, r.sha);
});

test('Update from Update/PkgData: the package written into the tree is installed', async (t) => {
  const r = await startUpdateRig(t, 3000);
  const out = await r.run([
    { kind: 'Replace', path: './FUMO/Update/PkgData', value: r.bytes.toString('base64'), format: 'b64' },
    { kind: 'Exec', path: './FUMO/Update' },
  ]);
  assert.equal(out.alert!.items[0]!['data'], '200');
  assert.equal(r.device.fumo.installed?.sha256, r.sha);
});

test('a corrupted package: result 402, State Download Failed, the Exec failed', async (t) => {
  const r = await startUpdateRig(t);
  r.device.updateFaults.corrupt = true;
  const out = await r.run(dlu(r.pkgUrl, r.sha));
  assert.equal(out.alert!.items[0]!['data'], '402');
  assert.equal(out.alert!.items[0]!['mark'], 'critical');
  assert.deepEqual([out.exec.state, out.exec.status], ['failed', 500]);
  assert.equal(r.device.tree.read('./FUMO/State'), String(FumoState.DownloadFailed));
  assert.equal(r.device.fumo.installed, undefined);
});

test('a download cut midway resumes with Range and succeeds', async (t) => {
  const r = await startUpdateRig(t);
  r.device.updateFaults.cutAfter = 70_000;
  const out = await r.run(dlu(r.pkgUrl, r.sha));
  assert.equal(out.alert!.items[0]!['data'], '200');
  assert.deepEqual(r.device.fumo.installed, { sha256: r.sha, bytes: r.bytes.length, requests: 2 });
  assert.equal(r.served.requests, 2);
});

test('the user refuses: result 401 User Cancelled, nothing fetched', async (t) => {
  const r = await startUpdateRig(t);
  r.device.updateFaults.refuse = true;
  const out = await r.run(dlu(r.pkgUrl));
  assert.equal(out.alert!.items[0]!['data'], '401');
  assert.equal(r.served.requests, 0);
});

test('no room for the package: 501; a bad URL: 411; an unknown host path: 500', async (t) => {
  const r = await startUpdateRig(t);
  r.device.updateFaults.spaceBytes = 1000;
  assert.equal((await r.run(dlu(r.pkgUrl))).alert!.items[0]!['data'], '501');
  delete r.device.updateFaults.spaceBytes;
  assert.equal((await r.run(dlu('not a url'))).alert!.items[0]!['data'], '411');
  assert.equal((await r.run(dlu(r.pkgUrl.replace('/pkg', '/nothing')))).alert!.items[0]!['data'], '500');
  assert.equal(r.device.tree.read('./FUMO/State'), String(FumoState.DownloadFailed));
});

test('Update with nothing downloaded is refused at once (405), and State is read-only to the server', async (t) => {
  const r = await startUpdateRig(t);
  const op = await r.server.service.queue('IMEI:359881234567890', { kind: 'Exec', path: './FUMO/Update' });
  const w = await r.server.service.queue('IMEI:359881234567890', { kind: 'Replace', path: './FUMO/State', value: '100', format: 'int' });
  await r.device.session();
  assert.equal((await r.server.service.operation(op.id)).status, 405);
  assert.equal((await r.server.service.operation(w.id)).status, 405);
});
