// The shared credential vectors (test/vectors/auth, copied from ../shared/spec/vectors) and an
// independent recomputation of each formula with node:crypto, written from the digest's §5.2 text.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  authKey,
  basicCredential,
  checkCred,
  checkHmac,
  formatHmacHeader,
  hmac,
  makeChal,
  makeCred,
  md5Credential,
  nonceFromText,
  parseHmacHeader,
} from '../../../src/protocol/auth/index.ts';
import { AuthScheme } from '../../../src/protocol/codes.ts';

const v = JSON.parse(readFileSync(new URL('../../vectors/auth/auth-vectors.json', import.meta.url), 'utf8'));
const body = Buffer.from(
  readFileSync(new URL('../../vectors/wbxml/02-pkg1-client-init-md5.strtbl.hex', import.meta.url), 'utf8').trim(),
  'hex',
);

const H = (b: Buffer | string): Buffer => createHash('md5').update(b).digest();
const B64 = (b: Buffer): string => b.toString('base64');
const independentMd5 = (u: string, p: string, nonce: Buffer): string =>
  B64(H(Buffer.concat([Buffer.from(B64(H(`${u}:${p}`)) + ':'), nonce])));

test('basic: B64(name:password)', () => {
  assert.equal(basicCredential(v.basic.username, v.basic.password), v.basic.cred_data);
  assert.equal(B64(Buffer.from(`${v.basic.username}:${v.basic.password}`)), v.basic.cred_data);
});

test('md5: the spec example, intermediate key included', () => {
  const c = v.md5_spec_example;
  assert.equal(authKey(c.username, c.password), c.intermediate_B64_MD5_user_pwd);
  const nonce = new TextEncoder().encode(c.nonce_bytes_ascii);
  assert.equal(md5Credential(c.username, c.password, nonce), c.cred_data);
  assert.equal(independentMd5(c.username, c.password, Buffer.from(nonce)), c.cred_data);
});

test('md5: a binary nonce is hashed as bytes, never as its base64 text', () => {
  const c = v.md5_binary_nonce;
  const nonce = nonceFromText(c.NextNonce_as_sent_in_Chal_b64);
  assert.equal(Buffer.from(nonce).toString('hex'), c.nonce_bytes_hex_after_b64_decode);
  assert.equal(md5Credential(c.username, c.password, nonce), c.cred_data);
  assert.equal(independentMd5(c.username, c.password, Buffer.from(nonce)), c.cred_data);
  assert.notEqual(md5Credential(c.username, c.password, nonce), c.cred_data_if_implementation_wrongly_hashes_the_b64_text);
  assert.equal(
    md5Credential(c.username, c.password, new TextEncoder().encode(c.NextNonce_as_sent_in_Chal_b64)),
    c.cred_data_if_implementation_wrongly_hashes_the_b64_text,
  );
});

test('HMAC: MAC over the exact body bytes and the header as AOSP writes it', () => {
  const c = v.hmac;
  assert.equal(body.length, 398);
  assert.equal(B64(H(body)), c.B64_MD5_body);
  const nonce = nonceFromText(c.nonce_b64);
  assert.equal(hmac(c.username, c.password, nonce, body), c.mac);
  const independent = B64(
    H(Buffer.concat([Buffer.from(B64(H(`${c.username}:${c.password}`)) + ':'), Buffer.from(nonce), Buffer.from(':' + B64(H(body)))])),
  );
  assert.equal(independent, c.mac);
  assert.equal(`x-syncml-hmac: ${formatHmacHeader({ username: c.username, mac: c.mac })}`, c.http_header);
});

test('HMAC check: verdicts for good, tampered, unknown user, stale nonce, missing and malformed headers', () => {
  const c = v.hmac;
  const nonce = nonceFromText(c.nonce_b64);
  const header = formatHmacHeader({ username: c.username, mac: c.mac });
  const lookup = (u: string) => (u === c.username ? { name: c.username, password: c.password } : undefined);
  assert.deepEqual(checkHmac(header, body, lookup, [nonce]).verdict, 'ok');
  const tampered = Buffer.from(body);
  tampered[200] = tampered[200]! ^ 1;
  assert.equal(checkHmac(header, tampered, lookup, [nonce]).verdict, 'refused');
  assert.equal(checkHmac(header.replace('Bruce2', 'Eve'), body, lookup, [nonce]).verdict, 'unknown-user');
  // the current nonce fails, the previous one matches: matched says which
  assert.deepEqual(checkHmac(header, body, lookup, [new Uint8Array(16), nonce]).matched, 1);
  assert.equal(checkHmac(undefined, body, lookup, [nonce]).verdict, 'missing');
  assert.equal(checkHmac('algorithm=MD5, mac=abc', body, lookup, [nonce]).verdict, 'malformed');
  assert.equal(checkHmac(header.replace('MD5', 'SHA1'), body, lookup, [nonce]).verdict, 'unsupported');
  // the spec's example omits the '=' padding of the mac
  assert.equal(checkHmac(header.replace(/=+$/, ''), body, lookup, [nonce]).verdict, 'ok');
});

test('Cred and Chal: built as DM sends them, checked with the nonces in order', () => {
  const who = { name: 'Bruce2', password: 'OhBehave' };
  const nonce = nonceFromText(v.md5_binary_nonce.NextNonce_as_sent_in_Chal_b64);
  const cred = makeCred(AuthScheme.Md5, who, nonce);
  assert.deepEqual(cred, { meta: { type: 'syncml:auth-md5', format: 'b64' }, data: v.md5_binary_nonce.cred_data });
  assert.deepEqual(makeChal(AuthScheme.Md5, nonce), { meta: { type: 'syncml:auth-md5', format: 'b64', nextNonce: 'LG3iZQhhdmKNHg==' } });
  const expected = { ...who, scheme: AuthScheme.Md5 };
  assert.deepEqual(checkCred(cred, expected, [nonce]), { verdict: 'ok', matched: 0 });
  assert.deepEqual(checkCred(cred, expected, [new Uint8Array(4)]), { verdict: 'refused' });
  assert.deepEqual(checkCred(undefined, expected, [nonce]), { verdict: 'missing' });
  assert.deepEqual(checkCred(cred, { ...expected, password: 'wrong' }, [nonce]), { verdict: 'refused' });
  const basic = makeCred(AuthScheme.Basic, who, nonce);
  assert.equal(basic.data, v.basic.cred_data);
  assert.deepEqual(checkCred(basic, { ...who, scheme: AuthScheme.Basic }), { verdict: 'ok' });
  // a basic Cred answering an md5 challenge is refused: one scheme per session
  assert.deepEqual(checkCred(basic, expected, [nonce]), { verdict: 'refused' });
  assert.deepEqual(checkCred({ meta: { type: 'syncml:auth-X509' }, data: 'x' }, expected, [nonce]), { verdict: 'unsupported' });
});

test('x-syncml-hmac parsing is lenient in form and strict in content', () => {
  const mac = v.hmac.mac;
  for (const form of [
    `algorithm=MD5, username="Bruce2", mac=${mac}`,
    `username="Bruce2",mac=${mac},algorithm=MD5`,
    `MAC=${mac} ,  Username=Bruce2`,
    ` algorithm = MD5 , username = "Bruce2" , mac = ${mac} `,
  ]) {
    assert.deepEqual(parseHmacHeader(form), { algorithm: 'MD5', username: 'Bruce2', mac }, form);
  }
  assert.equal(parseHmacHeader('username="a \\"q\\" b", mac=AAAA').username, 'a "q" b');
  for (const bad of [
    '',
    'username="x"',
    `mac=${mac}`,
    'username="x, mac=AAAA',
    'username=x, mac=not base64!',
    'username=x mac=AAAA',
    'username=a, username=b, mac=AAAA',
    `username=x, mac=${'A'.repeat(2000)}`,
  ]) {
    assert.throws(() => parseHmacHeader(bad), { code: 'AUTH_BAD_HMAC_HEADER' }, bad);
  }
});

test('no secret appears in an error message', () => {
  const secret = 'S3cr3t-Pa55';
  try {
    makeCred(AuthScheme.Hmac, { name: 'dev', password: secret }, new Uint8Array(4));
    assert.fail('expected an error');
  } catch (err) {
    assert.equal((err as { code: string }).code, 'AUTH_UNSUPPORTED_SCHEME');
    assert.ok(!String((err as Error).message).includes(secret));
    assert.ok(!JSON.stringify(err).includes(secret));
  }
  assert.throws(
    () => nonceFromText('not*base64'),
    (err: Error) => !err.message.includes('not*base64'),
  );
});
