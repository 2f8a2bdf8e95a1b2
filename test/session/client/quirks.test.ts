// `gwmo fleet --quirks`: the list is read into the device's quirks, and a wrong one is named.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseQuirks } from '../../../src/session/client/quirks.ts';

test('a quirk list turns flags on and reads replyBuffer=<n>', () => {
  assert.deepEqual(parseQuirks('serverNonceNotPersisted, emptyServerNonce,chunkAnsweredOk,replyBuffer=60'), {
    serverNonceNotPersisted: true,
    emptyServerNonce: true,
    chunkAnsweredOk: true,
    replyBuffer: 60,
  });
  assert.deepEqual(parseQuirks(''), {});
});

test('an unknown quirk or a bad replyBuffer is refused with what is allowed', () => {
  assert.throws(
    () => parseQuirks('flaky'),
    /unknown quirk "flaky"; the quirks are emptyServerNonce, serverNonceNotPersisted, chunkAnsweredOk, replyBuffer/,
  );
  assert.throws(() => parseQuirks('replyBuffer=0'), /replyBuffer=<n>/);
});
