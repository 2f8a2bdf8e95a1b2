// 20,000 bad first messages for a provisioned device, over real HTTP with keep-alive and 32 at a
// time: what a refused, unauthenticated message may cost (no session, a capped trace, bounded heap).
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { apiRoutes } from '../../src/api/routes.ts';
import { encodeXml } from '../../src/protocol/index.ts';
import { DmServer } from '../../src/server/dm-server.ts';
import { MAX_REFUSED, SessionTrace } from '../../src/server/trace.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { chalNonce, hdrStatus, md5Cred, pkg1, postDm } from '../support/dm-raw.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const DEV = 'IMEI:350000000000001';

test('20,000 bad first messages: no session kept, real traces kept, refused ones capped, heap bounded', async (t) => {
  const store = new SqliteServerStore(':memory:');
  const trace = new SessionTrace();
  const server = new DmServer({ store, serverId: 'srv', routes: apiRoutes, trace, authLimits: { delayMs: 1, maxDelayMs: 5 } });
  const url = await server.start();
  t.after(async () => {
    await server.stop();
    await store.close();
  });
  await server.service.addDevice({ deviceId: DEV, name: 'dev1', password: 'right', scheme: 'md5' });
  for (let i = 0; i < 5; i++)
    await server.service.addDevice({ deviceId: `IMEI:35000000000010${i}`, name: 'd', password: 'right', scheme: 'md5' });

  // five real sessions, traced before the flood (from another address than the flood's)
  for (let i = 0; i < 5; i++) {
    const id = `IMEI:35000000000010${i}`;
    const first = await postDm(url, pkg1(id, url, { locName: 'd' }), { localAddress: '127.0.0.2' });
    const ok = await postDm(url, pkg1(id, url, { locName: 'd', cred: md5Cred('d', 'right', chalNonce(first.msg!)) }), {
      localAddress: '127.0.0.2',
    });
    assert.equal(hdrStatus(ok.msg!).code, 212);
  }
  const real = trace
    .list()
    .filter((s) => !s.outcome?.startsWith('refused'))
    .map((s) => s.id);
  assert.equal(real.length, 5);
  // the device was challenged once (its nonce stored): guesses must not rotate it
  await postDm(url, pkg1(DEV, url, { locName: 'dev1' }), { localAddress: '127.0.0.2' });
  const rowsBefore = (await store.listDevices()).length;
  const deviceBefore = await store.getDevice(DEV);

  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  t.after(() => agent.destroy());
  const bodies = Array.from({ length: 16 }, (_, i) => encodeXml(pkg1(DEV, url, { locName: 'dev1', cred: md5Cred('dev1', `guess-${i}`) })));
  /** `n` posts, 32 at a time on the keep-alive agent: seconds taken and the statuses answered */
  const blast = async (n: number, body: (i: number) => Uint8Array): Promise<{ seconds: number; statuses: Map<number, number> }> => {
    const statuses = new Map<number, number>();
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < n) {
          const r = await postDm(url, body(next++), { agent });
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }
      }),
    );
    return { seconds: (performance.now() - started) / 1000, statuses };
  };
  // the cost of a refusal is measured against the cheapest answer on this machine at this moment
  // (the flood took 9 s alone and 32.7 s at load 25): messages refused as undecodable, before any
  // account or nonce is looked at, sent in turns with the flood so both see the same load
  const garbage = Buffer.from(bodies[0]!).map((c, i) => (i === 0 ? 0x21 : c));
  const base = heap();
  const flood = { seconds: 0, statuses: new Map<number, number>() };
  let baseline = 0;
  for (let turn = 0; turn < 10; turn++) {
    const b = await blast(200, () => garbage);
    assert.deepEqual([...b.statuses.keys()], [400], 'the baseline messages are refused as undecodable');
    baseline += b.seconds;
    const f = await blast(2_000, (i) => bodies[i % bodies.length]!);
    flood.seconds += f.seconds;
    for (const [k, n] of f.statuses) flood.statuses.set(k, (flood.statuses.get(k) ?? 0) + n);
  }
  const { seconds, statuses } = flood;
  const grown = heap() - base;

  const ratio = seconds / 20_000 / (baseline / 2_000);
  if (process.env['GWMO_TEST_LOG'])
    console.error(`flood ${seconds.toFixed(1)} s, baseline ${baseline.toFixed(2)} s per 2,000: ${ratio.toFixed(2)}×`);
  assert.ok(ratio < 3, `a refused guess cost ${ratio.toFixed(1)}× an undecodable message (flood ${seconds.toFixed(1)} s)`);
  assert.ok((statuses.get(429) ?? 0) > 19_900, `almost all answered 429: ${JSON.stringify([...statuses])}`);
  assert.equal(server.activeSessions, 0);
  assert.deepEqual(
    trace
      .list()
      .filter((s) => real.includes(s.id))
      .map((s) => s.id),
    real,
    'the real sessions are still in the trace',
  );
  assert.equal(trace.counts.refused, MAX_REFUSED);
  assert.equal(trace.counts.sessions, 5);
  assert.equal((await store.listDevices()).length, rowsBefore);
  const deviceAfter = await store.getDevice(DEV);
  assert.deepEqual(deviceAfter?.clientNonce, deviceBefore?.clientNonce, 'the guesses did not rotate the stored nonce');
  assert.ok(grown < 20 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MB`);
});
