// A session that breaks after the device ran an Add but before its Status reached the server: a real
// HTTP proxy in front of the server drops that reply. The Add is in doubt and never sent again on its
// own; a Replace in the same message goes again and is done; the API shows, filters and resolves it.
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';

import { apiRoutes } from '../../src/api/routes.ts';
import { DmClientAgent } from '../../src/client/agent.ts';
import { DmServer } from '../../src/server/dm-server.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { DmHttpClient } from '../../src/transport/index.ts';
import { addAccount, installDevDetail, installDevInfo, Tree } from '../../src/tree/index.ts';
import { freePort } from '../support/ports.ts';

const DEV = 'IMEI:490154203237518';

/** Forwards to `target`; drops the first device message whose predicate holds. */
async function dropProxy(drop: (body: string) => boolean) {
  const seen = { dropped: 0 };
  let target = '';
  let armed = true;
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      if (armed && drop(body.toString('utf8'))) {
        armed = false;
        seen.dropped++;
        res.socket?.destroy(); // the device's Status never arrives; the device sees a broken connection
        return;
      }
      const up = request(`${target}${req.url ?? ''}`, { method: 'POST', headers: req.headers }, (r) => {
        const out: Buffer[] = [];
        r.on('data', (c: Buffer) => out.push(c));
        r.on('end', () => {
          const reply = Buffer.concat(out);
          res.writeHead(r.statusCode ?? 502, r.headers).end(reply);
        });
      });
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    to: (url: string) => void (target = url),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function rig() {
  // the device's Status for the Add is in its message that answers the server's first package
  const proxy = await dropProxy((body) => /<Cmd>Add<\/Cmd>/.test(body));
  const store = new SqliteServerStore(':memory:');
  const port = await freePort();
  const direct = `http://127.0.0.1:${port}`;
  proxy.to(direct);
  const server = new DmServer({ store, serverId: 'gwmo-srv', routes: apiRoutes, host: '127.0.0.1', port, publicUrl: `${proxy.url}/dm` });
  await server.start();
  await server.service.addDevice({ deviceId: DEV, name: 'dev1', password: 'dev-secret', serverName: 'gwmo-srv', serverPassword: 'srv' });
  const tree = new Tree();
  installDevInfo(tree, { DevId: DEV, Man: 'Acme', Mod: 'M1', DmV: '1.2', Lang: 'en-US' });
  installDevDetail(tree, { DevTyp: 'meter', OEM: 'Acme', FwV: '1', SwV: '1', HwV: 'A', LrgObj: true });
  addAccount(tree, {
    id: 'gwmo',
    serverId: 'gwmo-srv',
    addr: `${proxy.url}/dm`,
    client: { type: 'DIGEST', name: 'dev1', secret: 'dev-secret' },
    server: { type: 'DIGEST', name: 'gwmo-srv', secret: 'srv' },
  });
  tree.define('.', { format: 'node', acl: 'Add=*&Get=*&Replace=gwmo-srv&Delete=gwmo-srv&Exec=gwmo-srv' });
  tree.define('./Vendor/Level', { format: 'int', value: '1' });
  // every Add the device carried out, with the status it gave (a 401 on our SyncHdr runs none)
  const adds: [string, number][] = [];
  const add = tree.add.bind(tree);
  tree.add = async (who, uri, write) => {
    const status = await add(who, uri, write);
    adds.push([uri, status]);
    return status;
  };
  const http = new DmHttpClient({ retries: 0, timeoutMs: 10_000 });
  const agent = new DmClientAgent({ tree, http, clock: { now: () => Date.now() }, encoding: 'xml' });
  const api = `${direct}/api`;
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(api + path, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    return { status: res.status, json: await res.json() };
  };
  return {
    proxy,
    adds,
    store,
    server,
    tree,
    agent,
    call,
    async close() {
      http.close();
      await server.stop();
      await store.close();
      await proxy.close();
    },
  };
}

test('the reply to an Add is lost: the Add ran once and is in doubt; the Replace beside it is sent again and done', async () => {
  const r = await rig();
  try {
    const s = r.server.service;
    const add = await s.queue(DEV, { kind: 'Add', path: './Vendor/Meter', value: 'm1', format: 'chr' });
    const replace = await s.queue(DEV, { kind: 'Replace', path: './Vendor/Level', value: '7', format: 'int' });
    const first = await r.agent.session();
    assert.equal(first.end, 'error', 'the device lost its connection');
    assert.equal(r.proxy.seen.dropped, 1);
    assert.equal(r.tree.read('./Vendor/Meter'), 'm1', 'the device ran the Add');

    // the device starts over: the broken session ends, its commands are sorted out
    const second = await r.agent.session();
    assert.equal(second.end, 'done', second.error);
    assert.deepEqual(r.adds, [['./Vendor/Meter', 200]], 'the Add ran once');
    const a = await s.operation(add.id);
    assert.equal(a.state, 'indoubt');
    assert.equal(a.status, undefined, 'no status was received');
    assert.match(a.note ?? '', /^sent in session \S+ at \d{4}-\d\d-\d\dT.*Z; no status received \(session aborted\): whether the Add ran/);
    const rep = await s.operation(replace.id);
    assert.deepEqual([rep.state, rep.status], ['done', 200], 'the Replace went again in the second session');
    assert.equal(r.tree.read('./Vendor/Level'), '7');

    // the API shows it, filters on it and resolves it
    const listed = await r.call('GET', `/devices/${encodeURIComponent(DEV)}/operations?state=indoubt`);
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.json.items.map((o: { id: string; state: string; retry: string }) => [o.id, o.state, o.retry]),
      [[add.id, 'indoubt', 'never']],
    );
    assert.equal((await r.call('GET', `/devices/${encodeURIComponent(DEV)}/operations?state=lost`)).status, 400);
    const bad = await r.call('POST', `/operations/${add.id}/resolve`, { resolution: 'maybe' });
    assert.deepEqual([bad.status, bad.json.error], [400, 'resolution must be retry, failed or done, not "maybe"']);
    const done = await r.call('POST', `/operations/${add.id}/resolve`, { resolution: 'done', reason: 'the meter node is there' });
    assert.equal(done.status, 200);
    assert.equal(done.json.state, 'done');
    assert.match(done.json.note, /^marked done by request: the meter node is there \(it was in doubt: sent in session/);
    const again = await r.call('POST', `/operations/${add.id}/resolve`, { resolution: 'retry' });
    assert.deepEqual(
      [again.status, again.json.error],
      [409, `operation "${add.id}" is done, not in doubt: only an operation in doubt is resolved`],
    );

    const third = await r.agent.session();
    assert.equal(third.end, 'done', third.error);
    assert.deepEqual(r.adds, [['./Vendor/Meter', 200]], 'resolved as done: never sent again');
  } finally {
    await r.close();
  }
});

test('retry "always" at creation, or a retry resolution: the Add goes again (and the device says it exists)', async () => {
  const r = await rig();
  try {
    const s = r.server.service;
    const always = await s.queue(DEV, { kind: 'Add', path: './Vendor/A', value: 'a', format: 'chr', retry: 'always' });
    const plain = await s.queue(DEV, { kind: 'Add', path: './Vendor/B', value: 'b', format: 'chr' });
    assert.equal((await r.agent.session()).end, 'error');
    assert.equal((await r.agent.session()).end, 'done');
    assert.deepEqual(
      r.adds,
      [
        ['./Vendor/A', 200],
        ['./Vendor/B', 200],
        ['./Vendor/A', 418],
      ],
      'both ran once, the one created with retry "always" went again',
    );
    const a = await s.operation(always.id);
    assert.deepEqual([a.state, a.status, a.retry], ['failed', 418, 'always'], 'the second Add found the node there');
    assert.equal((await s.operation(plain.id)).state, 'indoubt');

    const retried = await r.call('POST', `/operations/${plain.id}/resolve`, { resolution: 'retry' });
    assert.deepEqual([retried.status, retried.json.state], [200, 'queued']);
    assert.equal((await r.agent.session()).end, 'done');
    assert.deepEqual(r.adds.at(-1), ['./Vendor/B', 418]);
    assert.equal(r.adds.length, 4);
    assert.deepEqual([(await s.operation(plain.id)).state, (await s.operation(plain.id)).status], ['failed', 418]);

    const refused = await r.call('POST', `/devices/${encodeURIComponent(DEV)}/operations`, { kind: 'Add', path: './X', retry: 'twice' });
    assert.deepEqual(
      [refused.status, refused.json.error],
      [400, 'retry must be "always" (send again when no status came back) or "never", not "twice"'],
    );
  } finally {
    await r.close();
  }
});
