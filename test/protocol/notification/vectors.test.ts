// Package#0 against the shared vectors, each digest recomputed here from the formula in the
// digest's §6.2 and the header from the bit layout of §6.1 (independently of src/).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  decodeNotification,
  encodeNotification,
  encodeTrigger,
  nonceCandidates,
  sessionIdToHeader,
  verifyNotification,
} from '../../../src/protocol/notification/index.ts';

const v = JSON.parse(readFileSync(new URL('../../vectors/notification/pkg0-vectors.json', import.meta.url), 'utf8'));
const exampleHex = readFileSync(
  new URL('../../vectors/notification/pkg0-example-background-session1234.hex', import.meta.url),
  'utf8',
).trim();

const H = (b: Buffer | string): Buffer => createHash('md5').update(b).digest();
const B64 = (b: Buffer): string => b.toString('base64');

function independentDigest(serverId: string, password: string, nonce: Buffer, trigger: Buffer): Buffer {
  return H(Buffer.concat([Buffer.from(`${B64(H(`${serverId}:${password}`))}:`), nonce, Buffer.from(`:${B64(H(trigger))}`)]));
}

function independentHeader(version: number, ui: number, initiator: number, session: number, idLen: number): Buffer {
  const h = (BigInt(version) << 54n) | (BigInt(ui) << 52n) | (BigInt(initiator) << 51n) | (BigInt(session) << 8n) | BigInt(idLen);
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(h);
  return out;
}

const caseFields = [
  { ui: 1, initiator: 0, session: 0x1234 },
  { ui: 1, initiator: 0, session: 0x1234 },
  { ui: 1, initiator: 0, session: 0x1234 },
  { ui: 2, initiator: 1, session: 0x002a },
];

test('every vector: independent digest and header, our encode byte-identical, our decode field-exact', () => {
  assert.equal(v.cases.length, caseFields.length);
  v.cases.forEach((c: Record<string, string>, i: number) => {
    const f = caseFields[i]!;
    const trigger = Buffer.concat([
      independentHeader(v.version_field, f.ui, f.initiator, f.session, v.server_id.length),
      Buffer.from(v.server_id),
    ]);
    assert.equal(trigger.toString('hex'), c.trigger_hex, c.case);
    const nonce = Buffer.from(c.nonce_hex!, 'hex');
    assert.equal(independentDigest(v.server_id, v.server_password, nonce, trigger).toString('hex'), c.digest_hex, c.case);

    const ours = encodeNotification(
      {
        version: v.version_field,
        uiMode: f.ui as 1 | 2,
        initiator: f.initiator ? 'server' : 'client',
        sessionId: f.session,
        serverId: v.server_id,
      },
      { password: v.server_password, nonce },
    );
    assert.equal(Buffer.from(ours).toString('hex'), c.package0_hex, c.case);

    const d = decodeNotification(Buffer.from(c.package0_hex!, 'hex'));
    assert.equal(Buffer.from(d.digest).toString('hex'), c.digest_hex);
    assert.deepEqual(
      {
        version: d.version,
        uiMode: d.uiMode,
        initiator: d.initiator,
        sessionId: d.sessionId,
        serverId: d.serverId,
        vendor: d.vendor.length,
      },
      { version: 11, uiMode: f.ui, initiator: f.initiator ? 'server' : 'client', sessionId: f.session, serverId: v.server_id, vendor: 0 },
    );
  });
  assert.equal(exampleHex, v.cases[0].package0_hex);
  assert.equal(sessionIdToHeader(0x1234), '1234');
  assert.equal(sessionIdToHeader(0x002a), '2A');
});

test('verify: stored nonce first, then the resync nonces in the order AOSP and libdmclient use', () => {
  const [stored, zeros, asciiResync] = v.cases as Record<string, string>[];
  const storedText = Buffer.from(stored!.nonce_hex!, 'hex').toString('base64');
  const cands = nonceCandidates(storedText);
  assert.deepEqual(
    cands.map((c) => c.source),
    ['stored', 'stored-text', 'resync', 'resync-text'],
  );
  const check = (hex: string) => verifyNotification(decodeNotification(Buffer.from(hex, 'hex')), v.server_password, cands)?.source;
  assert.equal(check(stored!.package0_hex!), 'stored');
  assert.equal(check(zeros!.package0_hex!), 'resync');
  assert.equal(check(asciiResync!.package0_hex!), 'resync-text');
  assert.equal(verifyNotification(decodeNotification(Buffer.from(stored!.package0_hex!, 'hex')), 'wrong', cands), undefined);
  // a nonce stored as text that is not base64 is tried as its bytes
  const textNonce = encodeNotification({ sessionId: 7, serverId: 's' }, { password: 'p', nonce: new TextEncoder().encode('not-b64!') });
  assert.equal(verifyNotification(decodeNotification(textNonce), 'p', nonceCandidates('not-b64!'))?.source, 'stored-text');
});

test('encode defaults to version 12 and carries a vendor body the digest covers', () => {
  const vendor = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);
  const bytes = encodeNotification(
    { sessionId: 1, serverId: 'srv', initiator: 'server', uiMode: 3, vendor },
    { password: 'pw', nonce: new Uint8Array(16) },
  );
  const d = decodeNotification(bytes);
  assert.equal(d.version, 12);
  assert.equal(bytes[16], 0x03);
  assert.equal(bytes[17], 0x00 | (3 << 4) | (1 << 3));
  assert.deepEqual([...d.vendor], [...vendor]);
  assert.deepEqual(Buffer.from(d.digest), independentDigest('srv', 'pw', Buffer.alloc(16), Buffer.from(d.trigger)));
  assert.equal(Buffer.from(encodeTrigger({ sessionId: 1, serverId: 'srv', version: 13 }))[0], 13 >> 2);
});

test('bad Package#0 input: typed errors with the byte offset', () => {
  const good = Buffer.from(v.cases[0].package0_hex, 'hex');
  const cases: [string, Buffer, string][] = [
    ['empty', Buffer.alloc(0), 'PKG0_TRUNCATED'],
    ['digest only', good.subarray(0, 16), 'PKG0_TRUNCATED'],
    ['server id cut', good.subarray(0, 30), 'PKG0_TRUNCATED'],
    ['id length 0', Buffer.concat([good.subarray(0, 23), Buffer.of(0), Buffer.from('x')]), 'PKG0_BAD_FIELD'],
    ['version 9', Buffer.concat([good.subarray(0, 16), Buffer.of(0x02, 0x50), good.subarray(18)]), 'PKG0_UNSUPPORTED_VERSION'],
    ['version 14', Buffer.concat([good.subarray(0, 16), Buffer.of(0x03, 0x90), good.subarray(18)]), 'PKG0_UNSUPPORTED_VERSION'],
    ['server id not UTF-8', Buffer.concat([good.subarray(0, 23), Buffer.of(2, 0xff, 0xfe)]), 'PKG0_BAD_FIELD'],
  ];
  for (const [name, bytes, code] of cases) assert.throws(() => decodeNotification(bytes), { code }, name);
  for (const version of [10, 11, 12, 13]) {
    const b = Buffer.from(good);
    b[16] = version >> 2;
    b[17] = (b[17]! & 0x3f) | ((version & 3) << 6);
    assert.equal(decodeNotification(b).version, version);
  }
  const secret = { password: 'p', nonce: new Uint8Array(0) };
  for (const [input, what] of [
    [{ sessionId: 0, serverId: 's' }, 'session id 0'],
    [{ sessionId: 0x10000, serverId: 's' }, 'session id too big'],
    [{ sessionId: 1, serverId: '' }, 'empty server id'],
    [{ sessionId: 1, serverId: 'x'.repeat(256) }, 'server id too long'],
    [{ sessionId: 1, serverId: 's', uiMode: 4 }, 'ui mode 4'],
    [{ sessionId: 1, serverId: 's', version: 1024 }, 'version past 10 bits'],
  ] as const) {
    assert.throws(() => encodeNotification(input as never, secret), { code: 'PKG0_BAD_FIELD' }, what);
  }
});
