// A device provisioned with an empty nonce for the server, that never stores the new one it
// issues: the server's first Cred (resync nonce) is refused, its commands go again with the Cred for
// the new nonce, and no batch is lost, session after session, in XML and WBXML.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DmDevice } from '../../src/client/device.ts';
import { SessionTrace } from '../../src/server/trace.ts';
import { startPair } from '../support/dm-pair.ts';
import { GW_ID, startGateway, startServer, lanDevice } from '../support/gw-pair.ts';
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
      assert.deepEqual(
        out.map((o) => [o.state, o.status]),
        [
          ['done', 200],
          ['done', 200],
        ],
        `round ${round}`,
      );
      assert.equal(p.tree.exists(`./Vendor${round}`), true, 'the Add ran once');
    }
    const metric = await scrape(`${p.url.replace(/\/dm$/, '')}/metrics`);
    assert.equal(
      metric('gwmo_dm_server_auth_refused_total', { outcome: 'resent' }),
      2,
      'one refusal per session, each answered by a re-send',
    );
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
  const trace = new SessionTrace();
  const p = await startPair({ trace });
  t.after(() => p.close());
  await p.server.service.updateDevice(p.deviceId, { serverPassword: 'not-what-the-device-has' });
  const get = await p.server.service.queue(p.deviceId, { kind: 'Get', path: './DevInfo/Mod' });
  await p.agent.session();
  const res = await fetch(`${p.url.replace(/\/dm$/, '')}/api/operations/${get.id}`);
  const view = (await res.json()) as { state: string; status: unknown; note: string };
  assert.deepEqual([view.state, view.status], ['queued', null]);
  assert.match(view.note, /the device refused the server's credentials \(401\) 3 times in one session/);
  const metric = await scrape(`${p.url.replace(/\/dm$/, '')}/metrics`);
  assert.equal(metric('gwmo_dm_server_auth_refused_total', { outcome: 'gave-up' }), 1);
  assert.equal(metric('gwmo_dm_sessions_ended_total', { outcome: 'server-auth-failed' }), 1);
  assert.deepEqual(
    trace.list().map((x) => x.outcome),
    ['server-auth-failed'],
    'the trace says how the session ended',
  );
});

for (const nonce of [undefined, new Uint8Array(0)]) {
  test(`behind a gateway${nonce ? ' told the devices\' nonce (--lan-server-nonce "")' : ''}: the device's fanout runs${nonce ? ' with no refusal' : ', each session after one re-send'}`, async (t) => {
    const srv = await startServer();
    t.after(() => srv.close());
    const gw = await startGateway(srv.url, nonce ? { lanServerNonce: nonce } : {});
    t.after(() => gw.close());
    // a device that forgot the nonce it gave cannot verify a Package#0 keyed with it either: it
    // ignores it, and its own next session (a check-in) picks the fanout's command up
    let ignored = (): void => {};
    const notificationIgnored = new Promise<void>((resolve) => {
      ignored = resolve;
    });
    const d = new DmDevice(lanDevice(gw.gateway.lanUrl, 'IMEI:NONCE', { quirks: QUIRKS }), undefined, (event) => {
      if (event === 'notification.ignored') ignored();
    });
    await d.start();
    t.after(() => d.stop());
    assert.equal((await d.session()).end, 'done');
    await gw.gateway.checkIn();
    const api = srv.url.replace(/\/dm$/, '/api');
    const done = srv.alertOf('resultaggregation');
    const res = await fetch(`${api}/gateways/${encodeURIComponent(GW_ID)}/fanouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'note',
        devices: ['IMEI:NONCE'],
        commands: [{ kind: 'Replace', path: './Vendor/gwmo/Note', value: 'hello' }],
      }),
    });
    assert.equal(res.status, 202, await res.clone().text());
    if (!nonce) {
      await notificationIgnored;
      assert.equal((await d.session()).end, 'done');
    }
    await done;
    assert.equal(d.tree.read('./Vendor/gwmo/Note'), 'hello');
    const job = (await (await fetch(`${api}/gateways/${encodeURIComponent(GW_ID)}/fanouts/note`)).json()) as {
      Aggregate: Record<string, string>;
    };
    assert.deepEqual(job.Aggregate, { 200: '1' });
    const text = await gw.gateway.metrics.dm.registry.metrics();
    const resent = Number(/gwmo_dm_server_auth_refused_total\{[^}]*outcome="resent"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
    assert.equal(resent, nonce ? 0 : 2, 'one re-send per session (enrolment, fanout): the device never keeps the new nonce');
  });
}
