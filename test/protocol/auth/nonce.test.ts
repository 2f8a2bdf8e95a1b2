import assert from 'node:assert/strict';
import { test } from 'node:test';

import { newNonce, NONCE_BYTES } from '../../../src/protocol/auth/nonce.ts';

test('nonces drawn from the pool are the asked size, all different, and copies that share no bytes', () => {
  // 1,000 × 16 bytes crosses the 4 KB pool several times
  const nonces = Array.from({ length: 1000 }, () => newNonce());
  assert.ok(nonces.every((n) => n.length === NONCE_BYTES));
  assert.equal(new Set(nonces.map((n) => Buffer.from(n).toString('hex'))).size, 1000);
  const [a, b] = [newNonce(), newNonce()];
  const before = Buffer.from(b).toString('hex');
  a.fill(0);
  assert.equal(Buffer.from(b).toString('hex'), before);
  assert.equal(newNonce(5000).length, 5000);
  assert.equal(newNonce(3).length, 3);
});
