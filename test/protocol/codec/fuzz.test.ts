import assert from 'node:assert/strict';
import { test } from 'node:test';

import { decoders, fuzz, seeds } from '../../support/fuzz.ts';

// CI runs 100k WBXML and 50k XML mutants; `npm run fuzz -- --runs N` runs longer.
const corpus = seeds();

test('100,000 mutated WBXML messages each decode or give a DecodeError, never another exception', () => {
  const report = fuzz(decoders.wbxml, corpus.wbxml, 100_000, 1);
  assert.equal(report.decoded + report.refused, 100_000);
  assert.ok(report.refused > 0 && report.decoded > 0, `mutations reach both outcomes: ${JSON.stringify(report)}`);
});

test('50,000 mutated XML messages each decode or give a DecodeError, never another exception', () => {
  const report = fuzz(decoders.xml, corpus.xml, 50_000, 2);
  assert.equal(report.decoded + report.refused, 50_000);
  assert.ok(report.refused > 0 && report.decoded > 0, `mutations reach both outcomes: ${JSON.stringify(report)}`);
});
