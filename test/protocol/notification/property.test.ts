import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';

import { NotificationError } from '../../../src/protocol/errors.ts';
import { decodeNotification, encodeNotification, verifyNotification } from '../../../src/protocol/notification/index.ts';

const runs = Number(process.env['GWMO_PROPERTY_RUNS'] ?? 1000);

test('encode → decode keeps every field and the digest verifies with the same nonce only', () => {
  fc.assert(
    fc.property(
      fc.record({
        version: fc.integer({ min: 10, max: 13 }),
        uiMode: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>,
        initiator: fc.constantFrom('server', 'client') as fc.Arbitrary<'server' | 'client'>,
        sessionId: fc.integer({ min: 1, max: 0xffff }),
        serverId: fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme-ascii' }),
        vendor: fc.uint8Array({ maxLength: 64 }),
      }),
      fc.string({ maxLength: 20 }),
      fc.uint8Array({ minLength: 1, maxLength: 24 }),
      (n, password, nonce) => {
        const bytes = encodeNotification(n, { password, nonce });
        const d = decodeNotification(bytes);
        assert.deepEqual(
          { ...n, vendor: [...n.vendor] },
          {
            version: d.version,
            uiMode: d.uiMode,
            initiator: d.initiator,
            sessionId: d.sessionId,
            serverId: d.serverId,
            vendor: [...d.vendor],
          },
        );
        assert.ok(verifyNotification(d, password, [{ source: 'stored', nonce }]));
        const other = Uint8Array.from(nonce, (b, i) => (i === 0 ? b ^ 1 : b));
        assert.equal(verifyNotification(d, password, [{ source: 'stored', nonce: other }]), undefined);
      },
    ),
    { numRuns: runs },
  );
});

test('decoding arbitrary bytes gives a message or a NotificationError, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      try {
        decodeNotification(bytes);
      } catch (err) {
        assert.ok(err instanceof NotificationError, String(err));
        assert.ok(err.offset >= 0 && err.offset <= bytes.length);
      }
    }),
    { numRuns: runs * 10 },
  );
});
