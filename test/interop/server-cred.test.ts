// A device provisioned with an empty nonce for the server, that never stores the new one it
// issues: the server's first Cred (resync nonce) is refused, its commands go again with the Cred for
// the new nonce, and no batch is lost, session after session, in XML and WBXML.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startPair } from '../support/dm-pair.ts';
import { scrape } from '../support/metrics.ts';

const QUIRKS = { emptyServerNonce: true, serverNonceNotPersisted: true } as const;

for (const encoding of ['xml', 'wbxml'] as const) {
  test(`${encoding}: a device that refuses the server's first Cred and never keeps the new nonce runs every batch`, async (t) => {
    const p = await startPair({ encoding, quirks: QUIRKS });
    t.after(() => p.close());
    const s = p.server.service;
    for (const round of [1, 2]) {
      const get = await s.queue(p.deviceId, { kind: 'Get', path: './DevInfo/Mod' });
      const add = await s.queue(p.deviceId, { kind: 'Add', path: `./Vendor${round}`, format: 'node' });
      const report = await p.agent.session();
      assert.equal(report.end, 'done', report.error);
      const out = await Promise.all([get, add].map((o) => s.operation(o.id)));
      assert.deepEqual(out.map((o) => [o.state, o.status]), [['done', 200], ['done', 200]], `round ${round}`);
      assert.equal(p.tree.exists(`./Vendor${round}`), true, 'the Add ran once');
    }
    const metric = await scrape(`${p.url.replace(/\/dm$/, '')}/metrics`);
    assert.equal(metric('gwmo_dm_server_auth_refused_total', { outcome: 'resent' }), 2, 'one refusal per session, each answered by a re-send');
  });
}

test('the account given the nonce the device holds (serverNonce ""): the first digest is right, nothing is refused', async (t) => {
  const p = await startPair({ quirks: QUIRKS, account: { serverNonce: '' } });
  t.after(() => p.close());
  const get = await p.server.service.queue(p.deviceId, { kind: 'Get', path: './DevInfo/Mod' });
  assert.equal((await p.agent.session()).end, 'done');
  assert.equal((await p.server.service.operation(get.id)).status, 200);
  const metric = await scrape(`${p.url.replace(/\/dm$/, '')}/metrics`);
  assert.equal(metric('gwmo_dm_server_auth_refused_total', { outcome: 'resent' }) ?? 0, 0);
});

test('a device that refuses every Cred (wrong server password): the operations stay queued, the API says why', async (t) => {
  const p = await startPair();
  t.after(() => p.close());
  await p.server.service.updateDevice(p.deviceId, { serverPassword: 'not-what-the-device-has' });
  const get = await p.server.service.queue(p.deviceId, { kind: 'Get', path: './DevInfo/Mod' });
  await p.agent.session();
  const res = await fetch(`${p.url.replace(/\/dm$/, '')}/api/operations/${get.id}`);
  const view = await res.json() as { state: string; status: unknown; note: string };
  assert.deepEqual([view.state, view.status], ['queued', null]);
  assert.match(view.note, /the device refused the server's credentials \(401\) 3 times in one session/);
  const metric = await scrape(`${p.url.replace(/\/dm$/, '')}/metrics`);
  assert.equal(metric('gwmo_dm_server_auth_refused_total', { outcome: 'gave-up' }), 1);
  assert.equal(metric('gwmo_dm_sessions_ended_total', { outcome: 'server-auth-failed' }), 1);
});
