// 100,000 mutated datagrams (of real handshakes) through the DTLS parsers and the server's
// handler: the parsers refuse only with DtlsDecodeError, the handler never throws and counts no
// internal error. A million by hand: npm run fuzz -- --target dtls --runs 1000000
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { fuzzDtls } from '../../support/dtls-fuzz.ts';

test('100,000 mutated DTLS datagrams: refused with an alert or dropped, never an exception', async () => {
  const seed = Number(process.env.FUZZ_SEED ?? 20261207);
  const report = await fuzzDtls(100_000, seed);
  console.log(`# seed ${seed}: ${JSON.stringify(report)}`);
  assert.equal(report.parsers.runs, 100_000);
  assert.ok(report.parsers.refused > 0 && report.parsers.decoded > 0, 'mutations both parse and fail');
  assert.equal(report.stats.internalErrors, 0);
  assert.ok(report.stats.dropped.malformed > 0);
});
