// Full DM sessions between the server and a device over loopback HTTP, for each encoding and auth
// scheme: every command, failures that must change nothing, multi-message packages and large objects.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { encodeNotification, RESYNC_NONCE } from '../../src/protocol/index.ts';
import { addAccount, readAccounts } from '../../src/tree/index.ts';
import { type Scheme, startPair } from '../support/dm-pair.ts';

for (const encoding of ['xml', 'wbxml'] as const) {
  for (const scheme of ['basic', 'md5', 'hmac'] as Scheme[]) {
    test(`${encoding} / ${scheme}: Get, Add, Replace, Copy, Exec, Delete carried out and reported`, async () => {
      const p = await startPair({ encoding, scheme });
      try {
        const s = p.server.service;
        let done = 0;
        p.tree.onExec('./Vendor/Reboot', () => (done++, 200));
        const ops = [
          await s.queue(p.deviceId, { kind: 'Get', path: './DevInfo/Mod' }),
          await s.queue(p.deviceId, { kind: 'Add', path: './Vendor', format: 'node' }),
          await s.queue(p.deviceId, { kind: 'Add', path: './Vendor/Reboot', format: 'node' }),
          await s.queue(p.deviceId, { kind: 'Add', path: './Vendor/Level', value: '3', format: 'int' }),
          await s.queue(p.deviceId, { kind: 'Replace', path: './Vendor/Level', value: '4', format: 'int' }),
          await s.queue(p.deviceId, { kind: 'Add', path: './Vendor/Blob', value: 'AAEC/w==', format: 'b64' }),
          await s.queue(p.deviceId, { kind: 'Copy', path: './Vendor/Copy', source: './Vendor/Level' }),
          await s.queue(p.deviceId, { kind: 'Exec', path: './Vendor/Reboot' }),
          await s.queue(p.deviceId, { kind: 'Get', path: './Vendor/Blob' }),
          await s.queue(p.deviceId, { kind: 'Delete', path: './Vendor/Copy' }),
          await s.queue(p.deviceId, { kind: 'Get', path: './Vendor?list=StructData' }),
        ];
        const report = await p.agent.session();
        assert.equal(report.end, 'done', report.error);
        const out = await Promise.all(ops.map((o) => s.operation(o.id)));
        assert.deepEqual(
          out.map((o) => [o.kind, o.status]),
          [
            ['Get', 200],
            ['Add', 200],
            ['Add', 200],
            ['Add', 200],
            ['Replace', 200],
            ['Add', 200],
            ['Copy', 200],
            ['Exec', 200],
            ['Get', 200],
            ['Delete', 200],
            ['Get', 200],
          ],
        );
        assert.deepEqual(out[0]!.results, [{ uri: './DevInfo/Mod', format: 'chr', data: 'Roadrunner' }]);
        assert.deepEqual(out[8]!.results?.[0]?.data, Uint8Array.of(0, 1, 2, 255));
        assert.equal(out[8]!.results?.[0]?.format, 'b64');
        assert.deepEqual(
          out[10]!.results?.map((r) => r.uri),
          ['./Vendor', './Vendor/Reboot', './Vendor/Level', './Vendor/Blob'],
        );
        assert.equal(p.tree.read('./Vendor/Level'), '4');
        assert.equal(p.tree.exists('./Vendor/Copy'), false);
        assert.equal(done, 1);
        assert.equal((await s.device(p.deviceId)).devInfo['Man'], 'Acme', 'DevInfo from Pkg1 kept by the server');
        // the next session: nonces moved on, both sides still agree
        await s.queue(p.deviceId, { kind: 'Get', path: './DevDetail/FwV' });
        assert.equal((await p.agent.session()).end, 'done');
      } finally {
        await p.close();
      }
    });
  }
}

test('wrong credentials: 401, nothing executed, operations stay queued', async () => {
  const p = await startPair({ scheme: 'md5', devicePassword: 'not-the-password' });
  try {
    const op = await p.server.service.queue(p.deviceId, { kind: 'Replace', path: './DevInfo/Lang', value: 'fr' });
    const report = await p.agent.session();
    assert.equal(report.end, 'auth-failed');
    assert.equal((await p.server.service.operation(op.id)).state, 'queued');
    assert.equal(p.tree.read('./DevInfo/Lang'), 'en-US');
  } finally {
    await p.close();
  }
});

test('the device refuses what its tree refuses: 425 (ACL), 405 (read-only), 404 (unknown); no change', async () => {
  const p = await startPair({ scheme: 'basic' });
  try {
    p.tree.define('./Locked', { format: 'node', acl: 'Get=*' });
    p.tree.define('./Locked/Value', { value: 'keep' });
    const s = p.server.service;
    const ops = [
      await s.queue(p.deviceId, { kind: 'Replace', path: './Locked/Value', value: 'changed' }),
      await s.queue(p.deviceId, { kind: 'Replace', path: './DevInfo/Mod', value: 'changed' }),
      await s.queue(p.deviceId, { kind: 'Get', path: './Nothing/Here' }),
    ];
    assert.equal((await p.agent.session()).end, 'done');
    assert.deepEqual(
      (await Promise.all(ops.map((o) => s.operation(o.id)))).map((o) => [o.state, o.status]),
      [
        ['failed', 425],
        ['failed', 405],
        ['failed', 404],
      ],
    );
    assert.equal(p.tree.read('./Locked/Value'), 'keep');
  } finally {
    await p.close();
  }
});

test('small MaxMsgSize: many operations over several messages, a large object both ways in chunks', async () => {
  const p = await startPair({ scheme: 'md5', encoding: 'wbxml', deviceMaxMsgSize: 1500, serverMaxMsgSize: 1500 });
  try {
    const s = p.server.service;
    await p.server.service.queue(p.deviceId, { kind: 'Add', path: './Big', format: 'node' });
    const big = Buffer.from(Uint8Array.from({ length: 10_000 }, (_, i) => (i * 31) % 256));
    const many = await Promise.all(
      Array.from({ length: 25 }, (_, i) => s.queue(p.deviceId, { kind: 'Add', path: `./Big/N${i}`, value: `value number ${i}` })),
    );
    const put = await s.queue(p.deviceId, { kind: 'Add', path: './Big/Image', value: big.toString('base64'), format: 'b64' });
    const get = await s.queue(p.deviceId, { kind: 'Get', path: './Big/Image' });
    const report = await p.agent.session();
    assert.equal(report.end, 'done', report.error);
    assert.ok(report.messages >= 10, `${report.messages} messages`);
    assert.ok((await Promise.all(many.map((o) => s.operation(o.id)))).every((o) => o.status === 200));
    assert.equal((await s.operation(put.id)).status, 200);
    assert.deepEqual(Buffer.from(p.tree.read('./Big/Image') as Uint8Array), big);
    const got = await s.operation(get.id);
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(got.results![0]!.data as Uint8Array), big);
  } finally {
    await p.close();
  }
});

test('after a session both sides hold the same nonces, so the next Package#0 verifies without resync', async () => {
  const p = await startPair({ scheme: 'md5' });
  try {
    await p.server.service.queue(p.deviceId, { kind: 'Get', path: './DevInfo/Man' });
    assert.equal((await p.agent.session()).end, 'done');
    const row = (await p.store.getDevice(p.deviceId))!;
    const [acc] = readAccounts(p.tree);
    assert.ok(row.serverNonce && acc?.server?.data);
    assert.deepEqual(Buffer.from(row.serverNonce), Buffer.from(acc.server.data), 'SRVCRED nonce');
    assert.deepEqual(Buffer.from(row.clientNonce!), Buffer.from(acc.client.data!), 'CLCRED nonce');
    const bytes = encodeNotification(
      { serverId: 'gwmo-srv', sessionId: 0x42, initiator: 'server' },
      { password: 'srv-secret', nonce: row.serverNonce },
    );
    assert.equal((await p.agent.notified(bytes))?.end, 'done');
  } finally {
    await p.close();
  }
});

test('with two accounts for one server (a bootstrap added one), a Package#0 is checked with the newest, the one its session runs on', async () => {
  const p = await startPair({ scheme: 'md5' });
  try {
    addAccount(p.tree, {
      id: 'newer',
      serverId: 'gwmo-srv',
      addr: p.url,
      client: { type: 'DIGEST', name: 'dev1', secret: 'dev-secret' },
      server: { type: 'DIGEST', name: 'gwmo-srv', secret: 'srv-secret' },
    });
    const wake = (sessionId: number, nonce: Uint8Array) =>
      p.agent.notified(encodeNotification({ serverId: 'gwmo-srv', sessionId, initiator: 'server' }, { password: 'srv-secret', nonce }));
    // the first wake-up uses the resync nonce; its session, on the newest account, leaves fresh nonces there
    await p.server.service.queue(p.deviceId, { kind: 'Get', path: './DevInfo/Man' });
    assert.equal((await wake(0x43, RESYNC_NONCE))?.end, 'done');
    assert.deepEqual(
      readAccounts(p.tree).map((a) => a.server?.data !== undefined),
      [false, true],
    );
    assert.equal((await wake(0x44, (await p.store.getDevice(p.deviceId))!.serverNonce!))?.end, 'done');
  } finally {
    await p.close();
  }
});

test('an Exec answered 202 completes when the Generic Alert with its correlator arrives', async () => {
  const p = await startPair({ scheme: 'md5' });
  try {
    p.tree.define('./Vendor/Update', { format: 'node' });
    p.tree.onExec('./Vendor/Update', ({ correlator }) => {
      p.agent.queueAlert({
        code: 1226,
        correlator: correlator!,
        items: [{ source: './Vendor/Update', type: 'org.example.update', format: 'int', data: '200' }],
      });
      return 202;
    });
    const op = await p.server.service.queue(p.deviceId, { kind: 'Exec', path: './Vendor/Update' });
    assert.ok(op.correlator, 'the server gives every Exec a correlator');
    assert.equal((await p.agent.session()).end, 'done');
    assert.deepEqual(
      [(await p.server.service.operation(op.id)).state, (await p.server.service.operation(op.id)).status],
      ['accepted', 202],
    );
    assert.equal((await p.agent.session()).end, 'done');
    assert.deepEqual([(await p.server.service.operation(op.id)).state, (await p.server.service.operation(op.id)).status], ['done', 200]);
    const [alert] = await p.store.listAlerts(p.deviceId);
    assert.deepEqual([alert?.code, alert?.correlator], [1226, op.correlator]);
  } finally {
    await p.close();
  }
});

test('a device that aborts with Alert 1223 ends the session; what was sent goes back to the queue', async () => {
  const p = await startPair({ scheme: 'basic' });
  try {
    p.tree.define('./Vendor/Slow', { format: 'node' });
    p.tree.onExec('./Vendor/Slow', () => 200);
    const op = await p.server.service.queue(p.deviceId, { kind: 'Replace', path: './Nope', value: 'x' });
    // the device answers the server's package with an abort instead of statuses
    const http = (p.agent as unknown as { options: { http: { post: (u: string, m: unknown) => Promise<unknown> } } }).options.http;
    const real = http.post.bind(http);
    let n = 0;
    http.post = async (u, m) => {
      if (++n === 2) {
        const { decodeXml, encodeXml } = await import('../../src/protocol/index.ts');
        const msg = decodeXml((m as { body: Uint8Array }).body);
        const abort = {
          ...msg,
          body: { final: true, commands: [msg.body.commands[0]!, { kind: 'Alert' as const, cmdId: 9, data: 1223, items: [] }] },
        };
        return real(u, { body: encodeXml(abort), encoding: 'xml' });
      }
      return real(u, m);
    };
    await p.agent.session();
    assert.equal(p.server.activeSessions, 0);
    assert.equal((await p.server.service.operation(op.id)).state, 'queued');
  } finally {
    await p.close();
  }
});
