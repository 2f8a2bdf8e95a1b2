// Which errors are store faults (503/507) and which stay bugs (500); StoreHealth logs each outage once
// each way and probes at most once a second while the store is away.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { faultHttp, StoreHealth, storeFaultOf } from '../../src/store/health.ts';

const sqliteError = (errcode: number, message: string): Error => Object.assign(new Error(message), { code: 'ERR_SQLITE_ERROR', errcode });
const pgError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

test('store faults by what the database said; anything else is not one', () => {
  assert.equal(storeFaultOf(sqliteError(13, 'database or disk is full'))?.state, 'full');
  assert.equal(storeFaultOf(sqliteError(13 | (1 << 8), 'database or disk is full'))?.state, 'full', 'an extended code of SQLITE_FULL');
  assert.equal(storeFaultOf(sqliteError(10, 'disk I/O error'))?.state, 'unavailable');
  assert.equal(storeFaultOf(sqliteError(5, 'database is locked'))?.state, 'unavailable');
  assert.equal(storeFaultOf(sqliteError(19, 'UNIQUE constraint failed: devices.device_id')), undefined);
  assert.equal(storeFaultOf(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))?.state, 'unavailable');
  assert.equal(storeFaultOf(pgError('57P01', 'terminating connection due to administrator command'))?.state, 'unavailable');
  assert.equal(storeFaultOf(pgError('08006', 'connection failure'))?.state, 'unavailable');
  assert.equal(storeFaultOf(pgError('53100', 'could not extend file: No space left on device'))?.state, 'full');
  assert.equal(storeFaultOf(new Error('Connection terminated unexpectedly'))?.state, 'unavailable');
  assert.equal(
    storeFaultOf(Object.assign(new Error(''), { errors: [pgError('ECONNREFUSED', 'connect ECONNREFUSED ::1:5432')] }))?.state,
    'unavailable',
  );
  assert.equal(storeFaultOf(pgError('23505', 'duplicate key value violates unique constraint')), undefined);
  assert.equal(storeFaultOf(pgError('55P03', 'canceling statement due to lock timeout')), undefined);
  assert.equal(storeFaultOf(new TypeError("Cannot read properties of undefined (reading 'x')")), undefined);
  assert.equal(storeFaultOf('a string'), undefined);
});

test('API: 503 while away, 507 when full; DM: 503 for both, always with Retry-After', () => {
  const away = { state: 'unavailable', cause: 'database unreachable: connect ECONNREFUSED' } as const;
  const full = { state: 'full', cause: 'storage full: database or disk is full' } as const;
  assert.deepEqual(
    [faultHttp(away).status, faultHttp(full).status, faultHttp(away, true).status, faultHttp(full, true).status],
    [503, 507, 503, 503],
  );
  assert.ok(faultHttp(full, true).retryAfter > 0);
  assert.match(faultHttp(full).error, /^storage full: /);
});

test('one line when the store goes away, one when it is back; the probe runs once a second at most, one at a time', async () => {
  let probes = 0;
  let up = false;
  const h = new StoreHealth('test', async () => {
    probes++;
    if (!up) throw pgError('ECONNREFUSED', 'connect ECONNREFUSED');
  });
  const lines: [string, Record<string, unknown>][] = [];
  h.onChange((event, fields) => lines.push([event, fields]));
  h.succeeded();
  for (let i = 0; i < 5; i++) assert.equal(h.failed(pgError('ECONNREFUSED', 'connect ECONNREFUSED'))?.state, 'unavailable');
  assert.equal(h.failed(new Error('a bug')), undefined);
  assert.deepEqual(
    lines.map(([e, f]) => [e, f['state']]),
    [['store.unavailable', 'unavailable']],
  );
  const checks = await Promise.all([h.check(), h.check(), h.check()]);
  assert.equal(probes, 1, 'three checks at once: one probe');
  assert.deepEqual(
    checks.map((c) => c.state),
    ['unavailable', 'unavailable', 'unavailable'],
  );
  up = true;
  assert.equal((await h.check()).state, 'unavailable', 'within the second: the last answer, no new probe');
  assert.equal(probes, 1);
  h.succeeded(); // a request got through
  assert.equal((await h.check()).state, 'ok');
  assert.deepEqual(
    lines.map(([e]) => e),
    ['store.unavailable', 'store.available'],
  );
  assert.equal(typeof lines[1]![1]['downMs'], 'number');
});
