// What every ServerStore must do, run against each backend (SQLite here, PostgreSQL in
// postgres.test.ts): a new backend passes this before anything uses it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ServerStore } from '../../src/store/server.ts';

const DEVICE = { deviceId: 'D', scheme: 'syncml:auth-md5', clientName: 'n', clientPassword: 'p', devInfo: {}, createdAt: 1 } as const;

export function serverStoreContract(backend: string, open: () => Promise<ServerStore>): void {
  const store = async (): Promise<ServerStore> => {
    const s = await open();
    await s.putDevice(DEVICE);
    return s;
  };

  test(`${backend}: operations are taken oldest first, once, and can be put back`, async () => {
    const s = await store();
    for (const id of ['a', 'b', 'c']) await s.queueOperation({ id, deviceId: 'D', kind: 'Get', target: `./${id}` }, 1);
    const taken = await s.takeOperations('D', 2, 2);
    assert.deepEqual(
      taken.map((o) => [o.id, o.state, o.updatedAt]),
      [
        ['a', 'sent', 2],
        ['b', 'sent', 2],
      ],
    );
    assert.deepEqual(taken, [await s.getOperation('a'), await s.getOperation('b')], 'what take returns is what is stored');
    assert.deepEqual(
      (await s.takeOperations('D', 5, 3)).map((o) => o.id),
      ['c'],
    );
    assert.deepEqual(await s.takeOperations('D', 5, 3), []);
    await s.requeueOperations(['b'], 4);
    assert.deepEqual(
      (await s.takeOperations('D', 5, 5)).map((o) => o.id),
      ['b'],
    );
    const finished = await s.finishOperation('a', { state: 'done', status: 200, results: [{ uri: './a', data: Uint8Array.of(1, 2) }] }, 6);
    assert.deepEqual(finished, await s.getOperation('a'), 'finishing hands back the row as stored');
    assert.deepEqual([finished?.state, finished?.status, finished?.updatedAt], ['done', 200, 6]);
    assert.deepEqual((await s.getOperation('a'))?.results, [{ uri: './a', data: Uint8Array.of(1, 2) }]);
    assert.equal(await s.finishOperation('nope', { state: 'done', status: 200 }, 7), undefined);
    await s.close();
  });

  test(`${backend}: batch: one transaction that commits, rolls back on error, and is joined by nested work`, async () => {
    const s = await store();
    await s.batch(async () => {
      await s.queueOperation({ id: 'x', deviceId: 'D', kind: 'Get', target: './x' }, 1);
      await s.batch(async () => await s.queueOperation({ id: 'y', deviceId: 'D', kind: 'Get', target: './y' }, 1));
    });
    assert.ok((await s.getOperation('x')) && (await s.getOperation('y')));
    await assert.rejects(
      s.batch(async () => {
        await s.queueOperation({ id: 'z', deviceId: 'D', kind: 'Get', target: './z' }, 1);
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await s.getOperation('z'), undefined);
    // the store is usable after the rollback; its own multi-statement writes join a batch
    await s.batch(async () => {
      await s.queueOperation({ id: 'w', deviceId: 'D', kind: 'Get', target: './w' }, 1);
      await s.takeOperations('D', 10, 2);
      await s.requeueOperations(['w', 'x'], 3);
    });
    assert.equal((await s.getOperation('w'))?.state, 'queued');
    await s.close();
  });

  test(`${backend}: insertDevice never replaces an account; changeAccount sets only the fields given`, async () => {
    const s = await store();
    const before = await s.getDevice('D');
    assert.equal(await s.insertDevice({ ...DEVICE, clientName: 'other', clientPassword: 'other-pw' }), false);
    assert.deepEqual(await s.getDevice('D'), before, 'the existing account is untouched');
    assert.equal(await s.insertDevice({ ...DEVICE, deviceId: 'F', serverName: 'srv', serverPassword: 'ps', notifyAddress: 'h:1' }), true);
    // two creates of one id at once: exactly one wins
    const raced = await Promise.all([1, 2].map((n) => s.insertDevice({ ...DEVICE, deviceId: 'G', clientName: `g${n}` })));
    assert.deepEqual(raced.filter(Boolean).length, 1);
    const f = await s.changeAccount('F', { clientPassword: 'new-pw', notifyAddress: null });
    assert.deepEqual(f, await s.getDevice('F'), 'the row as stored');
    assert.deepEqual(
      [f?.clientName, f?.clientPassword, f?.serverName, f?.serverPassword, f?.notifyAddress],
      ['n', 'new-pw', 'srv', 'ps', undefined],
    );
    assert.equal(await s.changeAccount('nobody', { clientPassword: 'x' }), undefined);
    assert.equal(await s.getDevice('nobody'), undefined, 'a change never creates');
    await s.close();
  });

  test(`${backend}: a session profile, the server nonce (empty too) and an operation's note are kept`, async () => {
    const s = await store();
    assert.equal((await s.getDevice('D'))!.sessionProfile, undefined, 'no profile: the defaults');
    const profile = { commandsPerMessage: 20, explicitFormat: false, largeObjects: false, maxMsgSize: 4096 };
    assert.equal(await s.insertDevice({ ...DEVICE, deviceId: 'P', sessionProfile: profile, serverNonce: new Uint8Array(0) }), true);
    const p = (await s.getDevice('P'))!;
    assert.deepEqual([p.sessionProfile, p.serverNonce], [profile, new Uint8Array(0)], 'an empty nonce is a nonce, not none');
    await s.updateDevice('P', { sessionProfile: { ...profile, effectiveCommandsPerMessage: 10 } });
    const changed = await s.changeAccount('P', { serverNonce: Uint8Array.of(9, 8), sessionProfile: { largeObjects: true } });
    assert.deepEqual([changed?.sessionProfile, changed?.serverNonce], [{ largeObjects: true }, Uint8Array.of(9, 8)]);
    assert.equal((await s.changeAccount('P', { serverNonce: null }))?.serverNonce, undefined);
    await s.queueOperation({ id: 'n1', deviceId: 'D', kind: 'Get', target: './n' }, 1);
    await s.takeOperations('D', 1, 2);
    await s.requeueOperations(['n1'], 3, 'the device refused the server credentials (401)');
    assert.deepEqual(
      [(await s.getOperation('n1'))?.state, (await s.getOperation('n1'))?.note],
      ['queued', 'the device refused the server credentials (401)'],
    );
    await s.takeOperations('D', 1, 4);
    const done = await s.finishOperation('n1', { state: 'done', status: 200 }, 5);
    assert.equal(done?.note, undefined, 'a finished operation keeps only its own note');
    await s.close();
  });

  test(`${backend}: device accounts keep bytes, DevInfo and the fields an update changes`, async () => {
    const s = await store();
    await s.putDevice({
      deviceId: 'E',
      scheme: 'syncml:auth-basic',
      clientName: 'e',
      clientPassword: 'pe',
      serverName: 'srv',
      serverPassword: 'ps',
      devInfo: { Mod: 'x' },
      createdAt: 5,
    });
    await s.updateDevice('E', {
      clientNonce: Uint8Array.of(0, 255, 7),
      devInfo: { Mod: 'y', Lang: 'fr' },
      lastSeen: 9,
      notifyAddress: '127.0.0.1:9',
    });
    const e = (await s.getDevice('E'))!;
    assert.deepEqual(
      [e.clientNonce, e.devInfo, e.lastSeen, e.notifyAddress, e.serverName, e.createdAt],
      [Uint8Array.of(0, 255, 7), { Mod: 'y', Lang: 'fr' }, 9, '127.0.0.1:9', 'srv', 5],
    );
    assert.equal(e.serverNonce, undefined);
    assert.deepEqual(
      (await s.listDevices()).map((d) => d.deviceId),
      ['D', 'E'],
    );
    assert.deepEqual(
      (await s.listDevices({ limit: 1, offset: 1 })).map((d) => d.deviceId),
      ['E'],
    );
    await s.queueOperation({ id: 'e1', deviceId: 'E', kind: 'Get', target: './x' }, 1);
    assert.equal(await s.deleteDevice('E'), true);
    assert.equal(await s.deleteDevice('E'), false);
    assert.equal(await s.getOperation('e1'), undefined, 'its operations go with it');
    await s.close();
  });

  test(`${backend}: a DM message's device writes: LastSeen on lookup, seen inside the batch, committed or dropped with it`, async () => {
    const s = await store();
    assert.equal(await s.touchDevice('nobody', 5), undefined);
    assert.equal((await s.touchDevice('D', 5))?.lastSeen, 5);
    await s.batch(async () => {
      assert.equal((await s.touchDevice('D', 6))?.lastSeen, 6);
      await s.updateDevice('D', { clientNonce: Uint8Array.of(1) });
      await s.updateDevice('D', { devInfo: { Mod: 'm' }, notifyAddress: '10.0.0.2:2948' });
      const inside = (await s.getDevice('D'))!;
      assert.deepEqual([inside.clientNonce, inside.devInfo, inside.notifyAddress], [Uint8Array.of(1), { Mod: 'm' }, '10.0.0.2:2948']);
      await s.updateDevice('D', { serverNonce: Uint8Array.of(2) });
    });
    const d = (await s.getDevice('D'))!;
    assert.deepEqual([d.lastSeen, d.clientNonce, d.serverNonce, d.devInfo], [6, Uint8Array.of(1), Uint8Array.of(2), { Mod: 'm' }]);
    await assert.rejects(
      s.batch(async () => {
        await s.updateDevice('D', { clientNonce: Uint8Array.of(9), devInfo: {} });
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual([(await s.getDevice('D'))!.clientNonce, (await s.getDevice('D'))!.devInfo], [Uint8Array.of(1), { Mod: 'm' }]);
    // the queue was empty at the lookup; what the batch itself queues or puts back is still taken
    const taken = await s.batch(async () => {
      await s.touchDevice('D', 7);
      await s.queueOperation({ id: 'late', deviceId: 'D', kind: 'Get', target: './l' }, 7);
      return s.takeOperations('D', 5, 7);
    });
    assert.deepEqual(
      taken.map((o) => o.id),
      ['late'],
    );
    const again = await s.batch(async () => {
      await s.touchDevice('D', 8);
      await s.requeueOperations(['late'], 8);
      return s.takeOperations('D', 5, 8);
    });
    assert.deepEqual(
      again.map((o) => o.id),
      ['late'],
    );
    await s.close();
  });

  test(`${backend}: binary values, Exec correlators, cancels and the restart requeue`, async () => {
    const s = await store();
    const op = await s.queueOperation(
      { id: 'b', deviceId: 'D', kind: 'Replace', target: './b', data: Uint8Array.of(9, 8), format: 'bin', type: 't' },
      1,
    );
    assert.deepEqual([op.data, op.format, op.type, op.state, op.createdAt], [Uint8Array.of(9, 8), 'bin', 't', 'queued', 1]);
    await s.queueOperation({ id: 'x', deviceId: 'D', kind: 'Exec', target: './x', correlator: 'c1' }, 2);
    await s.takeOperations('D', 10, 3);
    await s.finishOperation('x', { state: 'accepted', status: 202 }, 4);
    assert.equal((await s.findAcceptedByCorrelator('D', 'c1'))?.id, 'x');
    assert.equal(await s.findAcceptedByCorrelator('D', 'other'), undefined);
    await s.queueOperation({ id: 'y', deviceId: 'D', kind: 'Exec', target: './y', correlator: 'c2' }, 4);
    await s.putDevice({ ...DEVICE, deviceId: 'E' });
    await s.queueOperation({ id: 'z', deviceId: 'E', kind: 'Exec', target: './z', correlator: 'c3' }, 4);
    await s.takeOperations('D', 10, 4);
    await s.takeOperations('E', 10, 4);
    await s.finishOperation('y', { state: 'accepted', status: 202 }, 4);
    await s.finishOperation('z', { state: 'accepted', status: 202 }, 4);
    assert.deepEqual(
      (await s.listAccepted('D', 10)).map((o) => o.id),
      ['x', 'y'],
      "the device's, oldest first",
    );
    assert.deepEqual(
      (await s.listAccepted('D', 1)).map((o) => o.id),
      ['x'],
      'bounded',
    );
    await s.finishOperation('y', { state: 'done', status: 200 }, 4);
    assert.equal(await s.cancelOperation('x', 408, 5), true);
    assert.equal(await s.cancelOperation('x', 408, 5), false, 'a finished operation stays as it is');
    assert.equal(await s.requeueAllSent(6), 1, 'b was sent and not answered');
    assert.equal((await s.getOperation('b'))?.state, 'queued');
    assert.deepEqual(
      (await s.listAccepted('D', 10)).map((o) => o.id),
      [],
      'x cancelled, y done: nothing waits',
    );
    assert.deepEqual(
      (await s.listOperations('D')).map((o) => o.id),
      ['y', 'x', 'b'],
      'newest first',
    );
    await s.close();
  });

  test(`${backend}: alerts, locations and device jobs`, async () => {
    const s = await store();
    const a = await s.addAlert({ deviceId: 'D', code: 1226, correlator: 'k', items: [{ type: 't', data: 'v' }], receivedAt: 3 });
    await s.addAlert({ deviceId: 'D', code: 1201, items: [], receivedAt: 4 });
    assert.deepEqual(
      (await s.listAlerts('D')).map((r) => [r.code, r.correlator]),
      [
        [1201, undefined],
        [1226, 'k'],
      ],
    );
    assert.deepEqual((await s.listAlerts('D', { limit: 1 }))[0]?.code, 1201);
    assert.equal(typeof a.id, 'number');
    await s.setLocation('L', 'GW1', 1);
    await s.setLocation('L', 'GW2', 2);
    assert.deepEqual(await s.getLocation('L'), { gatewayId: 'GW2', at: 2 });
    const job = { id: 'j', deviceId: 'L', commands: [{ kind: 'Get', path: './x' }], state: 'pending', createdAt: 1, updatedAt: 1 } as const;
    await s.putDeviceJob(job);
    await s.putDeviceJob({ ...job, state: 'dispatched', correlator: 'cj', results: [{ status: 200, data: Uint8Array.of(1) }] });
    assert.equal((await s.findDeviceJob('cj'))?.state, 'dispatched');
    assert.deepEqual((await s.getDeviceJob('j'))?.results, [{ status: 200, data: Uint8Array.of(1) }]);
    assert.deepEqual(
      (await s.listDeviceJobs('L')).map((j) => j.id),
      ['j'],
    );
    await s.close();
  });

  test(`${backend}: campaigns replaced in place, listed newest first`, async () => {
    const s = await store();
    const c = {
      id: 'c1',
      gatewayId: 'G',
      image: 'fw2',
      object: 'auto' as const,
      state: 'running' as const,
      waves: [['a'], ['b', 'c']],
      wave: 0,
      failureThreshold: 0.2,
      perGatewayConcurrency: 50,
      notAfter: 99,
      createdAt: 5,
      updatedAt: 5,
    };
    await s.putCampaign(c);
    await s.putCampaign({ ...c, id: 'c0', createdAt: 1 });
    await s.putCampaign({ ...c, state: 'halted', reason: 'why', wave: 1, updatedAt: 9 });
    assert.deepEqual(await s.getCampaign('c1'), { ...c, state: 'halted', reason: 'why', wave: 1, updatedAt: 9 });
    assert.equal(await s.getCampaign('nope'), undefined);
    assert.deepEqual(
      (await s.listCampaigns(10)).map((x) => x.id),
      ['c1', 'c0'],
    );
    assert.equal((await s.listCampaigns(1)).length, 1);
    await s.close();
  });

  test(`${backend}: distributions and each device's part, replaced in place, listed newest first and per device`, async () => {
    const s = await store();
    const d = {
      id: 'd1',
      gatewayId: 'G',
      image: 'fw2',
      url: 'http://gw/img/x',
      hash: 'sha256:00',
      version: '2',
      object: 'auto' as const,
      state: 'running' as const,
      fanouts: [{ name: 'd1-fumo', correlator: 'dist:d1:fumo', object: 'fumo' as const, done: false }],
      createdAt: 5,
      updatedAt: 5,
    };
    await s.putDistribution(d);
    await s.putDistribution({ ...d, id: 'd0', createdAt: 1 });
    await s.putDistribution({ ...d, state: 'done', updatedAt: 9 });
    assert.deepEqual(await s.getDistribution('d1'), { ...d, state: 'done', updatedAt: 9 });
    // a second start of one name does not replace the first
    assert.equal(await s.insertDistribution({ ...d, image: 'other' }), false);
    assert.equal((await s.getDistribution('d1'))?.image, 'fw2');
    assert.equal(await s.insertDistribution({ ...d, id: 'd2', createdAt: 0 }), true);
    assert.equal((await s.getDistribution('d2'))?.createdAt, 0);
    assert.equal(await s.getDistribution('nope'), undefined);
    assert.deepEqual(
      (await s.listDistributions({ limit: 10 })).map((x) => x.id),
      ['d1', 'd0', 'd2'],
    );
    assert.deepEqual(await s.listDistributions({ gatewayId: 'other', limit: 10 }), []);
    const row = (deviceId: string, state: 'queued' | 'succeeded') => ({ distributionId: 'd1', deviceId, state, updatedAt: 5 });
    await s.putDistributionDevices([row('b', 'queued'), row('a', 'queued')]);
    await s.putDistributionDevices([
      { ...row('a', 'succeeded'), object: 'fumo' as const, status: 200, resultCode: 200, meaning: 'Successful' },
    ]);
    assert.deepEqual(
      (await s.listDistributionDevices('d1')).map((r) => [r.deviceId, r.state, r.resultCode]),
      [
        ['a', 'succeeded', 200],
        ['b', 'queued', undefined],
      ],
    );
    assert.deepEqual(
      (await s.listDeviceDistributions('a')).map((r) => r.distributionId),
      ['d1'],
    );
    await s.close();
  });

  test(`${backend}: alerts listed fleet-wide, newest first, by device, Type (exact or prefix), code, time and cursor`, async () => {
    const s = await store();
    for (const id of ['A', 'B'])
      await s.putDevice({ deviceId: id, scheme: 'syncml:auth-md5', clientName: id, clientPassword: 'p', devInfo: {}, createdAt: 1 });
    const add = (deviceId: string, code: number, type: string | undefined, at: number) =>
      s.addAlert({ deviceId, code, items: type === undefined ? [] : [{ type, format: 'chr', data: `${type}@${at}` }], receivedAt: at });
    const a1 = await add('A', 1226, 'org.openmobilealliance.dm.firmwareupdate.devicerequest', 10);
    const a2 = await add('B', 1226, 'org.openmobilealliance.dm.firmwareupdate', 20);
    const a3 = await add('A', 1226, 'urn:oma:at:gwmo:1.0:deviceattached', 30);
    const a4 = await add('B', 1201, undefined, 40);
    const a5 = await add('A', 1226, 'org.openmobilealliance.dm.firmwareupdatex', 50);
    const ids = async (q: Omit<Parameters<typeof s.queryAlerts>[0], 'limit'> & { limit?: number }) =>
      (await s.queryAlerts({ limit: 100, ...q })).map((r) => r.id);
    assert.deepEqual(
      await ids({}),
      [a5, a4, a3, a2, a1].map((a) => a.id),
    );
    assert.deepEqual(
      await ids({ deviceId: 'A' }),
      [a5, a3, a1].map((a) => a.id),
    );
    assert.deepEqual(await ids({ type: 'org.openmobilealliance.dm.firmwareupdate' }), [a2.id]);
    assert.deepEqual(
      await ids({ type: 'org.openmobilealliance.dm.firmwareupdate', typePrefix: true }),
      [a5, a2, a1].map((a) => a.id),
    );
    assert.deepEqual(await ids({ type: 'org.openmobilealliance.dm.firmwareupdate.', typePrefix: true, deviceId: 'A' }), [a1.id]);
    assert.deepEqual(await ids({ type: 'urn:%', typePrefix: true }), [], 'LIKE characters are plain text');
    assert.deepEqual(await ids({ code: 1201 }), [a4.id]);
    assert.deepEqual(
      await ids({ since: 20, until: 40 }),
      [a3, a2].map((a) => a.id),
    );
    assert.deepEqual(
      await ids({ limit: 2 }),
      [a5, a4].map((a) => a.id),
    );
    assert.deepEqual(
      await ids({ limit: 2, before: a4.id }),
      [a3, a2].map((a) => a.id),
    );
    assert.deepEqual(
      await ids({ limit: 2, offset: 3 }),
      [a2, a1].map((a) => a.id),
    );
    assert.deepEqual(
      await ids({ after: a3.id }),
      [a5, a4].map((a) => a.id),
    );
    assert.deepEqual((await s.getAlert(a1.id))?.items, [
      {
        type: 'org.openmobilealliance.dm.firmwareupdate.devicerequest',
        format: 'chr',
        data: 'org.openmobilealliance.dm.firmwareupdate.devicerequest@10',
      },
    ]);
    assert.equal(await s.getAlert(a5.id + 1000), undefined);
    await s.close();
  });

  test(`${backend}: a restart finds sent operations: Adds in doubt (not retry "always" ones), Gets queued; resolved only once`, async () => {
    const s = await store();
    const mk = (id: string, kind: 'Add' | 'Get' | 'Exec', retry?: 'always') =>
      s.queueOperation({ id, deviceId: 'D', kind, target: `./${id}`, ...(retry ? { retry } : {}) }, 1);
    await mk('add', 'Add');
    await mk('get', 'Get');
    assert.equal((await mk('exec', 'Exec', 'always')).retry, 'always');
    await s.takeOperations('D', 10, 2);
    assert.equal(await s.requeueAllSent(3), 2, 'the Get and the Exec created with retry "always"');
    const after = await Promise.all(['add', 'get', 'exec'].map(async (id) => (await s.getOperation(id))!));
    assert.deepEqual(
      after.map((o) => o.state),
      ['indoubt', 'queued', 'queued'],
    );
    assert.match(after[0]!.note ?? '', /by a server instance that stopped before the device answered/);
    assert.deepEqual(
      (await s.listOperations('D', { state: 'indoubt' })).map((o) => o.id),
      ['add'],
    );
    const resolved = await s.resolveOperation('add', 'retry', 4, 'queued again by request');
    assert.deepEqual([resolved?.state, resolved?.note, resolved?.updatedAt], ['queued', 'queued again by request', 4]);
    assert.equal(await s.resolveOperation('add', 'done', 5, 'x'), undefined, 'no longer in doubt');
    assert.equal(await s.resolveOperation('get', 'done', 5, 'x'), undefined, 'never was');
    assert.deepEqual(
      (await s.takeOperations('D', 10, 6)).map((o) => o.id),
      ['add', 'get', 'exec'],
    );
    await s.close();
  });
}
