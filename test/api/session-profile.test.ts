// A device account's session profile and server nonce through the REST API: set on create,
// changed field by field, shown in GET, and bad input refused with a message and nothing changed.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startPair } from '../support/dm-pair.ts';

test('POST and PATCH /api/devices take sessionProfile and serverNonce; GET shows the profile with its defaults', async (t) => {
  const p = await startPair();
  t.after(() => p.close());
  const api = `${p.url.replace(/\/dm$/, '')}/api/devices`;
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(url, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };
  const created = await call('POST', api, {
    deviceId: 'IMEI:PROFILE',
    name: 'p',
    password: 'pw',
    serverName: 's',
    serverPassword: 'sp',
    serverNonce: '',
    sessionProfile: { commandsPerMessage: 20, explicitFormat: false },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.deepEqual(created.json['sessionProfile'], {
    commandsPerMessage: 20,
    explicitFormat: false,
    largeObjects: true,
    maxMsgSize: null,
    effectiveCommandsPerMessage: null,
    deviceLrgObj: null,
  });
  assert.deepEqual((await p.store.getDevice('IMEI:PROFILE'))!.serverNonce, new Uint8Array(0), 'the empty nonce, as the device holds it');
  assert.equal('serverNonce' in created.json, false, 'nonces are not shown');

  const one = `${api}/${encodeURIComponent('IMEI:PROFILE')}`;
  const patched = await call('PATCH', one, {
    sessionProfile: { largeObjects: false, explicitFormat: null, maxMsgSize: 4096 },
    serverNonce: 'AAECAw==',
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.json));
  assert.deepEqual(patched.json['sessionProfile'], {
    commandsPerMessage: 20,
    explicitFormat: true,
    largeObjects: false,
    maxMsgSize: 4096,
    effectiveCommandsPerMessage: null,
    deviceLrgObj: null,
  });
  assert.deepEqual((await p.store.getDevice('IMEI:PROFILE'))!.serverNonce, Uint8Array.of(0, 1, 2, 3));
  assert.deepEqual((await call('GET', one)).json['sessionProfile'], patched.json['sessionProfile']);

  const before = await p.store.getDevice('IMEI:PROFILE');
  for (const [body, message] of [
    [{ sessionProfile: { commandsPerMessage: 'ten' } }, /sessionProfile.commandsPerMessage must be a whole number from 1 to 1000/],
    [{ sessionProfile: { maxMsgSize: 100 } }, /sessionProfile.maxMsgSize must be a whole number from 1024/],
    [{ sessionProfile: { turbo: true } }, /sessionProfile.turbo is not a profile field/],
    [{ sessionProfile: [] }, /sessionProfile is an object/],
    [{ serverNonce: '***' }, /serverNonce must be base64/],
    [{ serverNonce: 5 }, /serverNonce must be a string or null/],
  ] as const) {
    const r = await call('PATCH', one, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(String(r.json['error']), message);
  }
  assert.deepEqual(await p.store.getDevice('IMEI:PROFILE'), before, 'refused changes change nothing');
  const bad = await call('POST', api, { deviceId: 'IMEI:BAD', name: 'p', password: 'pw', sessionProfile: { explicitFormat: 'yes' } });
  assert.equal(bad.status, 400);
  assert.match(String(bad.json['error']), /sessionProfile.explicitFormat must be true or false/);
  assert.equal(await p.store.getDevice('IMEI:BAD'), undefined, 'no account created');
});
