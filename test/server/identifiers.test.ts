// The one rule for ids and names (docs/access.md), table-driven.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { identifierProblem } from '../../src/server/identifiers.ts';

const fine = ['IMEI:490154203237518', 'GW:0001', 'my device', 'Zähler-7', '温度计', 'x'.repeat(256)] as const;
const refused = [
  ['', /1–256 characters/],
  ['x'.repeat(257), /1–256 characters/],
  ['a\nb', /U\+000A at 1/],
  ['\u0000', /U\+0000 at 0/],
  ['a\u007f', /U\+007F/],
  ['a\u0085', /U\+0085/],
  ['a\u202eb', /U\+202E/],
  ['a\u200bb', /U\+200B/],
  ['a\ud800', /U\+D800/],
  ['a\u2028', /U\+2028/],
  [' a', /whitespace/],
  ['a\u00a0', /whitespace/],
  [7, /must be a string/],
] as const;

for (const v of fine)
  test(`${JSON.stringify(v.slice(0, 30))} is a valid id`, () => assert.equal(identifierProblem(v, 'deviceId'), undefined));
for (const [v, message] of refused) {
  test(`${JSON.stringify(v)} is refused with a message naming the field`, () => {
    const problem = identifierProblem(v, 'deviceId');
    assert.match(problem ?? '', /^deviceId /);
    assert.match(problem ?? '', message);
  });
}
test('names are shorter than ids: 128 characters', () => {
  assert.equal(identifierProblem('x'.repeat(128), 'name', 'name'), undefined);
  assert.match(identifierProblem('x'.repeat(129), 'name', 'name') ?? '', /^name must have 1–128 characters/);
});
