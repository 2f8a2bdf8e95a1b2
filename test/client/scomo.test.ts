// SCOMO 1.0 on the simulated device, driven by a real DM server over HTTP: the server Adds
// Download/<PkgID>, the device gives it Status and Operations, DownloadInstall is answered 202
// and reported by an OperationComplete alert with the SCOMO result code; the package shows up in
// Inventory/Deployed with its own operations.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SCOMO_COMPLETE, ScomoDownloadStatus } from '../../src/tree/index.ts';
import { startUpdateRig } from '../support/update-rig.ts';

/** the ResultCode of the OperationComplete alert that reported a run */
const code = (out: { alert?: { items: readonly Record<string, unknown>[] } | undefined }): string | undefined =>
  /<ResultCode>(\d+)<\/ResultCode>/.exec(String(out.alert?.items[0]?.['data']))?.[1];

const pkg = (id: string, url: string, hash?: string, op = 'DownloadInstall') => [
  { kind: 'Add' as const, path: `./SCOMO/Download/${id}`, format: 'node' },
  { kind: 'Add' as const, path: `./SCOMO/Download/${id}/PkgID`, value: id },
  { kind: 'Add' as const, path: `./SCOMO/Download/${id}/Name`, value: 'Mail' },
  { kind: 'Add' as const, path: `./SCOMO/Download/${id}/PkgURL`, value: url },
  { kind: 'Replace' as const, path: `./SCOMO/Download/${id}/Ext/Version`, value: '3.1' },
  ...(hash ? [{ kind: 'Replace' as const, path: `./SCOMO/Download/${id}/Ext/PkgHash`, value: `sha256:${hash}` }] : []),
  { kind: 'Exec' as const, path: `./SCOMO/Download/${id}/Operations/${op}` },
];

test('DownloadInstall: OperationComplete 1200 with the Correlator; Deployed/<x> active with ID, Name, Version', async (t) => {
  const r = await startUpdateRig(t);
  const out = await r.run(pkg('mail', r.pkgUrl, r.sha));
  assert.deepEqual(
    out.ops.map((o) => o.status),
    [200, 200, 200, 200, 200, 200, 200],
  );
  const item = out.alert!.items[0]!;
  assert.deepEqual(
    [item['source'], item['target'], item['type'], item['format'], item['data']],
    [
      './SCOMO/Download/mail/Operations/DownloadInstall',
      './SCOMO/Inventory/Deployed/mail',
      SCOMO_COMPLETE,
      'xml',
      '<ResultCode>1200</ResultCode><Identifier>mail</Identifier>',
    ],
  );
  assert.equal(out.exec.state, 'done');
  const d = './SCOMO/Inventory/Deployed/mail';
  assert.deepEqual(
    ['ID', 'Name', 'Version', 'State'].map((n) => r.device.tree.read(`${d}/${n}`)),
    ['mail', 'Mail', '3.1', '20'],
  );
  assert.equal(r.device.tree.read('./SCOMO/Download/mail/Status'), String(ScomoDownloadStatus.Idle));
  assert.equal(r.device.scomo.installed.get('mail')?.sha256, r.sha);

  // Deactivate, then Remove: asynchronous too
  const off = await r.run([{ kind: 'Exec', path: `${d}/Operations/Deactivate` }]);
  assert.equal(code(off), '1200');
  assert.equal(r.device.tree.read(`${d}/State`), '10');
  const gone = await r.run([{ kind: 'Exec', path: `${d}/Operations/Remove` }]);
  assert.equal(code(gone), '1200');
  assert.equal(r.device.tree.exists(d), false);
});

test('DownloadInstallInactive deploys inactive; Download delivers, Install deploys', async (t) => {
  const r = await startUpdateRig(t);
  await r.run(pkg('a', r.pkgUrl, undefined, 'DownloadInstallInactive'));
  assert.equal(r.device.tree.read('./SCOMO/Inventory/Deployed/a/State'), '10');
  const dl = await r.run(pkg('b', r.pkgUrl, undefined, 'Download'));
  assert.equal(code(dl), '1200');
  assert.equal(r.device.tree.read('./SCOMO/Inventory/Delivered/b/PkgID'), 'b');
  const inst = await r.run([{ kind: 'Exec', path: './SCOMO/Inventory/Delivered/b/Operations/Install' }]);
  assert.equal(code(inst), '1200');
  assert.equal(r.device.tree.read('./SCOMO/Inventory/Deployed/b/State'), '20');
  assert.equal(r.device.tree.exists('./SCOMO/Inventory/Delivered/b'), false);
});

test('a corrupted package: 1407 Failed Package Validation, Status Download Failed, nothing deployed', async (t) => {
  const r = await startUpdateRig(t);
  r.device.updateFaults.corrupt = true;
  const out = await r.run(pkg('mail', r.pkgUrl, r.sha));
  assert.equal(code(out), '1407');
  assert.deepEqual([out.exec.state, out.exec.status], ['failed', 500]);
  assert.equal(r.device.tree.read('./SCOMO/Download/mail/Status'), String(ScomoDownloadStatus.DownloadFailed));
  assert.equal(r.device.tree.exists('./SCOMO/Inventory/Deployed/mail'), false);
});

test('a cut download resumes; refusal is 1401; no room is 1404; an unreachable URL is 1402', async (t) => {
  const r = await startUpdateRig(t);
  r.device.updateFaults.cutAfter = 50_000;
  assert.equal(code(await r.run(pkg('a', r.pkgUrl, r.sha))), '1200');
  assert.equal(r.device.scomo.installed.get('a')?.requests, 2, 'resumed with Range');
  r.device.updateFaults.refuse = true;
  assert.equal(code(await r.run(pkg('b', r.pkgUrl))), '1401');
  r.device.updateFaults.refuse = false;
  r.device.updateFaults.spaceBytes = 10;
  assert.equal(code(await r.run(pkg('c', r.pkgUrl))), '1404');
  delete r.device.updateFaults.spaceBytes;
  assert.equal(code(await r.run(pkg('d', 'http://127.0.0.1:9/pkg'))), '1402');
});
