import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import {
  addAccount,
  installDevDetail,
  installDevInfo,
  LOCAL,
  type Principal,
  readAccounts,
  Tree,
  writeNonce,
} from '../../src/tree/index.ts';
import { SqliteTreeStore } from '../../src/store/sqlite/tree.ts';

const A: Principal = { kind: 'server', serverId: 'srvA' };
const B: Principal = { kind: 'server', serverId: 'srvB' };

function deviceTree(): Tree {
  const tree = new Tree({ now: () => Date.UTC(2026, 10, 25, 1, 2, 3) });
  installDevInfo(tree, { DevId: 'IMEI:1', Man: 'Acme', Mod: 'M1', DmV: '1.2', Lang: 'en' });
  installDevDetail(tree, { DevTyp: 'sensor', OEM: 'Acme', FwV: '1', SwV: '2', HwV: '3', LrgObj: true, maxDepth: 6, maxSegLen: 16 });
  // as a device provisioned for srvA: it may do anything, others may read and add
  tree.define('.', { format: 'node', acl: 'Add=*&Get=*&Replace=srvA&Delete=srvA&Exec=srvA' });
  return tree;
}

test('Add, Get, Replace, Delete with the status each situation calls for', async () => {
  const t = deviceTree();
  assert.equal(await t.add(A, './Vendor', { format: 'node' }), 200);
  assert.equal(await t.add(A, './Vendor', { format: 'node' }), 418);
  assert.equal(await t.add(A, './Nope/X', { data: '1' }), 404);
  assert.equal(await t.add(A, './Vendor/N', { format: 'int', data: '12' }), 200);
  assert.equal(await t.add(A, './Vendor/Bad', { format: 'int', data: 'twelve' }), 400);
  assert.equal(await t.add(A, './Vendor/N/Child', { data: 'x' }), 405, 'a leaf has no children');
  assert.deepEqual((await t.get(A, './Vendor/N')).value, [{ uri: './Vendor/N', format: 'int', data: '12' }]);
  assert.deepEqual((await t.get(A, 'Vendor')).value?.[0]?.data, 'N', 'a relative URI without ./ names the same node');
  assert.equal(await t.replace(A, './Vendor/N', { data: '13' }), 200);
  assert.equal(await t.replace(A, './Vendor/Missing', { data: '1' }), 404);
  assert.equal(await t.replace(A, './Vendor', { data: 'x' }), 405);
  assert.equal(await t.replace(A, './DevInfo/Mod', { data: 'hacked' }), 405, 'read-only MO node');
  assert.equal(await t.delete(A, './DevInfo'), 405, 'permanent');
  assert.equal(await t.delete(A, './Vendor'), 200);
  assert.equal((await t.get(A, './Vendor/N')).status, 404);
  assert.equal((await t.get(A, './a/b/c/d/e/f/g')).status, 414, 'MaxDepth 6');
  assert.equal((await t.get(A, `./${'x'.repeat(17)}`)).status, 414, 'MaxSegLen 16');
  assert.equal((await t.get(A, './a//b')).status, 400);
});

test('ACLs: inherited from the nearest ancestor, per server id; 425 when denied', async () => {
  const t = deviceTree();
  t.define('./Apps', { format: 'node', acl: 'Get=*&Add=srvA&Replace=srvA&Delete=srvA' });
  t.define('./Apps/One', { value: 'v' });
  assert.equal((await t.get(B, './Apps/One')).status, 200);
  assert.equal(await t.replace(B, './Apps/One', { data: 'w' }), 425);
  assert.equal(t.read('./Apps/One'), 'v', 'no change when denied');
  assert.equal(await t.replace(A, './Apps/One', { data: 'w' }), 200);
  assert.equal(await t.delete(B, './Apps/One'), 425);
  assert.equal(await t.add(B, './Apps/Two', { data: 'x' }), 425);
  // a leaf's ACL is changed through Replace on its parent only
  assert.equal(await t.replace(B, './Apps/One?prop=ACL', { data: 'Get=srvB' }), 425);
  assert.equal(await t.replace(A, './Apps/One?prop=ACL', { data: 'Get=srvB&Replace=srvB' }), 200);
  assert.equal((await t.get(A, './Apps/One')).status, 425, 'its own ACL wins over the parent');
  assert.equal(await t.replace(B, './Apps/One', { data: 'z' }), 200);
  assert.equal((await t.get(B, './Apps/One?prop=ACL')).value?.[0]?.data, 'Get=srvB&Replace=srvB');
  assert.equal(await t.replace(A, './Apps?prop=ACL', { data: 'Get=*&Bogus=1' }), 400);
  assert.equal(await t.replace(LOCAL, '.?prop=ACL', { data: 'Get=*&Add=srvA' }), 405, "the root's Add stays *");
  // an interior node added by a server without Replace on the parent gets its creator's rights
  assert.equal(await t.add(B, './Mine', { format: 'node' }), 200);
  assert.equal((await t.get(B, './Mine?prop=ACL')).value?.[0]?.data, 'Get=*&Add=srvB&Delete=srvB&Replace=srvB');
  assert.equal(await t.add(B, './Mine/Leaf', { data: '1' }), 200);
  assert.equal(await t.add(A, './Mine/Other', { data: '1' }), 425);
  assert.equal(await t.replace(LOCAL, './Apps/One', { data: 'device' }), 200, 'the device itself is not bound by ACLs');
});

test('properties and lists', async () => {
  const t = deviceTree();
  t.define('./V', { format: 'node' });
  await t.add(A, './V/L', { format: 'chr', type: 'text/plain', data: 'héllo' });
  const prop = async (p: string) => (await t.get(A, `./V/L?prop=${p}`)).value?.[0]?.data;
  assert.equal(await prop('Format'), 'chr');
  assert.equal(await prop('Type'), 'text/plain');
  assert.equal(await prop('Size'), '6');
  assert.equal(await prop('Name'), 'L');
  assert.equal(await prop('TStamp'), '20261125T010203Z');
  assert.equal(await prop('VerNo'), '0000');
  await t.replace(A, './V/L', { data: 'x' });
  assert.equal(await prop('VerNo'), '0001');
  assert.equal((await t.get(A, './V?prop=Size')).status, 406, 'no Size on interior nodes');
  assert.equal((await t.get(A, './V/L?prop=Colour')).status, 406);
  assert.equal(await t.add(A, './V/L?prop=Title', { data: 't' }), 405);
  assert.equal(await t.replace(A, './V/L?prop=Format', { data: 'int' }), 405);
  assert.equal(await t.replace(A, './V/L?prop=Title', { data: 'A title' }), 200);
  assert.equal(await prop('Title'), 'A title');
  await t.add(A, './V/M', { data: '2' });
  assert.equal(await t.replace(A, './V/L?prop=Name', { data: 'M' }), 418);
  assert.equal(await t.replace(A, './V/L?prop=Name', { data: 'K' }), 200);
  assert.equal(t.read('./V/K'), 'x');
  assert.deepEqual((await t.get(A, './V')).value?.[0]?.data, 'K/M');
  const struct = (await t.get(A, './DevDetail/URI?list=Struct')).value!;
  assert.deepEqual(
    struct.map((v) => v.uri),
    ['./DevDetail/URI', './DevDetail/URI/MaxDepth', './DevDetail/URI/MaxTotLen', './DevDetail/URI/MaxSegLen'],
  );
  assert.ok(struct.every((v) => v.data === undefined));
  const data = (await t.get(A, './DevDetail/URI?list=StructData')).value!;
  assert.equal(data[1]!.data, '6');
  assert.equal((await t.get(A, './DevDetail?list=TNDS')).status, 406);
});

test('Atomic: rollback undoes every change; commit keeps them', async () => {
  const t = deviceTree();
  t.define('./V', { format: 'node' });
  t.define('./V/A', { value: '1' });
  const tx = await t.begin();
  await t.replace(A, './V/A', { data: '2' });
  await t.add(A, './V/B', { data: 'new' });
  await t.delete(A, './V/A');
  await tx.rollback();
  assert.equal(t.read('./V/A'), '1');
  assert.equal(t.exists('./V/B'), false);
  assert.deepEqual(t.list('./V'), ['A']);
  const tx2 = await t.begin();
  await t.add(A, './V/C', { data: 'c' });
  await tx2.commit();
  assert.equal(t.read('./V/C'), 'c');
});

test('persistence: a tree reopened from its SQLite file has the same nodes, values and ACLs; rollbacks leave no trace', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-tree-'));
  try {
    const file = join(dir, 'tree.db');
    const store = new SqliteTreeStore(file);
    const t = new Tree({ persistence: store });
    installDevInfo(t, { DevId: 'IMEI:7', Man: 'Acme', Mod: 'M', DmV: '1.2', Lang: 'en' });
    await t.add(A, './Blob', { format: 'b64', data: Uint8Array.of(0, 1, 255) });
    await t.replace(LOCAL, './?prop=ACL'.replace('/?', '?'), { data: 'Add=*&Get=*&Replace=srvA' });
    const tx = await t.begin();
    await t.add(A, './Gone', { data: 'x' });
    await tx.rollback();
    store.close();
    const again = new Tree({ persistence: new SqliteTreeStore(file) });
    assert.deepEqual(again.read('./Blob'), Uint8Array.of(0, 1, 255));
    assert.equal(again.read('./DevInfo/DevId'), 'IMEI:7');
    assert.equal(again.exists('./Gone'), false);
    assert.equal((await again.get(A, '.?prop=ACL')).value?.[0]?.data, 'Add=*&Get=*&Replace=srvA');
    assert.equal(await again.delete(A, './DevInfo'), 405, 'permanence survives');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('code-backed subtrees and Exec handlers plug in without special cases', async () => {
  const t = deviceTree();
  let temperature = 21.5;
  const calls: string[] = [];
  t.define('./Sensors', { format: 'node' });
  t.mount('./Sensors', {
    get: async (rel) =>
      rel.length === 0
        ? { format: 'node', children: ['Temp'] }
        : rel[0] === 'Temp'
          ? { format: 'float', value: String(temperature) }
          : undefined,
    replace: async (rel, w) => (rel[0] === 'Temp' ? ((temperature = Number(w.data)), 200) : 404),
    exec: async (rel) => (calls.push(rel.join('/')), 202),
  });
  assert.deepEqual((await t.get(A, './Sensors/Temp')).value, [{ uri: './Sensors/Temp', format: 'float', data: '21.5' }]);
  assert.equal(await t.replace(A, './Sensors/Temp', { data: '30' }), 200);
  assert.equal((await t.get(A, './Sensors?list=StructData')).value?.[1]?.data, '30');
  assert.equal((await t.get(A, './Sensors/Nope')).status, 404);
  assert.equal(await t.exec(A, './Sensors/Calibrate', {}), 202);
  assert.deepEqual(calls, ['Calibrate']);
  assert.equal(await t.delete(A, './Sensors/Temp'), 405);

  t.define('./Reboot', { format: 'node' });
  assert.equal(await t.exec(A, './DevInfo', {}), 405, 'no handler');
  t.onExec('./Reboot', async ({ correlator }) => (correlator ? 202 : 200));
  assert.equal(await t.exec(A, './Reboot', {}), 200);
  assert.equal(await t.exec(A, './Reboot', { correlator: 'c1' }), 202);
  t.define('./Locked', { format: 'node', acl: 'Get=*' });
  t.onExec('./Locked', () => 200);
  assert.equal(await t.exec(A, './Locked', {}), 425);
});

test('DMAcc: accounts written and read back; secrets and nonces are not readable by servers', async () => {
  const t = deviceTree();
  addAccount(t, {
    id: 'srvA',
    serverId: 'srvA',
    addr: 'http://127.0.0.1:8080/dm',
    client: { type: 'DIGEST', name: 'dev', secret: 'pw' },
    server: { type: 'DIGEST', name: 'srvA', secret: 'spw' },
  });
  writeNonce(t, 'srvA', 'CLCRED', Uint8Array.of(9, 9));
  const [acc] = readAccounts(t);
  assert.equal(acc?.serverId, 'srvA');
  assert.deepEqual(acc?.client, { type: 'DIGEST', name: 'dev', secret: 'pw', data: Uint8Array.of(9, 9) });
  assert.equal(acc?.server?.secret, 'spw');
  assert.equal((await t.get(A, './DMAcc/srvA/AppAuth/toserver/AAuthSecret')).status, 405);
  assert.equal((await t.get(A, './DMAcc/srvA/AppAuth/toserver/AAuthName')).value?.[0]?.data, 'dev');
  assert.equal((await t.get(B, './DMAcc/srvA/ServerID')).status, 425, "another server cannot read this server's account");
  assert.equal(await t.replace(A, './DMAcc/srvA/AppAuth/toserver/AAuthSecret', { data: 'new' }), 200, 'but the owner may set it');
});
