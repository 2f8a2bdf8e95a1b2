// What a gateway answers is input too: node names in its StructData results are decoded without
// trusting them (a malformed escape, a node named __proto__).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { structData } from '../../src/server/gateways.ts';
import type { OperationRow } from '../../src/store/server.ts';

const op = (results: { uri: string; format?: string; data?: string }[]): OperationRow => ({ results }) as unknown as OperationRow;

test("a hostile gateway's node names neither throw nor reach Object.prototype", () => {
  const tree = structData(
    op([
      { uri: './GwMO/Images/__proto__', format: 'node' },
      { uri: './GwMO/Images/__proto__/polluted', data: 'yes' },
      { uri: './GwMO/Images/constructor/prototype/polluted', data: 'yes' },
      { uri: './GwMO/Images/%E0%A4%A/State', data: '30' },
      { uri: './GwMO/Images/fw%2F2/State', data: '20' },
    ]),
    './GwMO/Images',
  );
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  // (a __proto__ key in an object literal would set the prototype: the expectation is JSON too)
  assert.deepEqual(
    JSON.parse(JSON.stringify(tree)),
    JSON.parse(
      '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"%E0%A4%A":{"State":"30"},"fw/2":{"State":"20"}}',
    ),
  );
});
