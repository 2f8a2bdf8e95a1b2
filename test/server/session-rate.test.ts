// The per-minute session counts behind the overview's chart: minute buckets in a fixed ring, old
// minutes forgotten as the ring comes round, and the trace counting every session's end.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SessionRate } from '../../src/server/session-rate.ts';
import { SessionTrace } from '../../src/server/trace.ts';

const MIN = 60_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % MIN); // the start of a minute

test('sessions and failures are counted in the minute they ended, oldest minute first', () => {
  const rate = new SessionRate(10);
  rate.ended(T0 + 1_000, false);
  rate.ended(T0 + 59_999, true);
  rate.ended(T0 + 2 * MIN, false);
  const s = rate.series(4, T0 + 2 * MIN + 5);
  assert.equal(s.from, T0 - MIN);
  assert.deepEqual(
    [s.sessions, s.failures],
    [
      [0, 2, 0, 1],
      [0, 1, 0, 0],
    ],
  );
});

test('the ring keeps its size: a minute that came round again starts from zero, older ones read as zero', () => {
  const rate = new SessionRate(5);
  rate.ended(T0, true);
  rate.ended(T0 + 5 * MIN, false); // the same slot, five minutes later
  const s = rate.series(100, T0 + 5 * MIN);
  assert.equal(s.sessions.length, 5, 'never more minutes than the ring holds');
  assert.deepEqual(
    [s.sessions, s.failures],
    [
      [0, 0, 0, 0, 1],
      [0, 0, 0, 0, 0],
    ],
  );
  assert.deepEqual(rate.series(3, T0 + 20 * MIN).sessions, [0, 0, 0], 'long ago is zero, not what the slot last held');
});

test('the trace counts each session end and a refusal before any session, whatever its ring keeps', () => {
  let now = T0;
  const trace = new SessionTrace({ maxSessions: 1, now: () => now });
  trace.ended('IMEI:1', 'done');
  trace.ended('IMEI:2', 'auth-failed');
  now += MIN;
  trace.ended('IMEI:3', 'timeout');
  trace.record({ body: new TextEncoder().encode('not dm'), encoding: 'xml', url: '/dm' }, { httpStatus: 400, message: 'undecodable' });
  const s = trace.rate.series(2, now);
  assert.deepEqual(
    [s.sessions, s.failures],
    [
      [2, 2],
      [1, 2],
    ],
  );
});
