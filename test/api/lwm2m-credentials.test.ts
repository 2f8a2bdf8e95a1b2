// LwM2M credentials provisioned through the REST API reach the gateway in its next DM session and
// are never readable back: not from the API (credentials or operations), not by a Get of the MO
// node, not in the session trace, not in the server's or the gateway's log. Rotation keeps the old
// key until the device has used the new one.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';

import { fingerprint } from '../../src/server/lwm2m-credentials.ts';
import { messageXml, SessionTrace } from '../../src/server/trace.ts';
import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';

const KEY = '00112233445566778899aabbccddeeff';
const KEY2 = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const BS_KEY = 'b0075712a9b0075712a9b0075712a9b0';

test('PUT lwm2m-credentials reaches the gateway; GET shows identity and fingerprint only; no key in trace, log, operations or MO Get', async () => {
  const lines: string[] = [];
  const log = (event: string, fields: Record<string, unknown>): void => void lines.push(JSON.stringify({ event, ...fields }));
  const trace = new SessionTrace();
  const srv = await startServer({ trace, log });
  const gw = await startGateway(srv.url, { lwm2m: true, log });
  try {
    await gw.gateway.checkIn();
    const api = srv.url.replace(/\/dm$/, '/api');
    const url = `${api}/devices/meter-7/lwm2m-credentials`;
    const put = (body: unknown): Promise<Response> =>
      fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    // bad input: 400 with the field named, nothing queued
    for (const [body, why] of [
      [{ gateway: GW_ID, identity: 'meter-7' }, /identity and key go together/],
      [{ gateway: GW_ID, identity: 'meter-7', key: 'abcd' }, /key must be 16–64 bytes in hex/],
      [{ gateway: GW_ID, identity: 'a\u0000b', key: KEY }, /identity must be 1–128 characters/],
      [{ gateway: GW_ID, publicKey: 'AAAA' }, /publicKey must be an EC P-256 public key/],
      [{ gateway: GW_ID, serverUri: 'http://x' }, /serverUri must be coap/],
      [{ gateway: GW_ID, colour: 'red' }, /unknown field colour/],
      [{ identity: 'meter-7', key: KEY }, /no gateway has announced "meter-7" yet/],
    ] as const) {
      const r = await put(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(((await r.json()) as { error: string }).error, why);
    }
    assert.equal(gw.gateway.lwm2mCredentials.get('meter-7'), undefined);

    const ok = await put({ gateway: GW_ID, identity: 'meter-7', key: KEY, bootstrapIdentity: 'bs-meter-7', bootstrapKey: BS_KEY });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.equal(((await ok.json()) as { fingerprint: string }).fingerprint, fingerprint(KEY, 'hex'));
    // the gateway holds them: what a secured listener asks
    const match = gw.gateway.lwm2mCredentials.lookupPsk('meter-7')!;
    assert.equal(match.endpoint, 'meter-7');
    assert.equal(Buffer.from(match.key).toString('hex'), KEY);
    assert.equal(Buffer.from(gw.gateway.lwm2mCredentials.lookupBootstrapPsk('bs-meter-7')!.key).toString('hex'), BS_KEY);
    assert.equal(gw.gateway.lwm2mCredentials.lookupPsk('bs-meter-7'), undefined, 'a bootstrap key does not open registration');

    const got = await fetch(`${url}?gateway=${encodeURIComponent(GW_ID)}`);
    assert.equal(got.status, 200);
    assert.deepEqual(await got.json(), {
      deviceId: 'meter-7',
      gatewayId: GW_ID,
      mode: 'psk',
      identity: 'meter-7',
      publicKey: null,
      fingerprint: fingerprint(KEY, 'hex'),
      rotating: false,
      bootstrapIdentity: 'bs-meter-7',
      serverUri: null,
    });

    // the MO: a Get of a key is refused, the subtree lists no key
    const base = './GwMO/LwM2MCredentials/meter-7';
    const ops = [
      await srv.server.service.queue(GW_ID, { kind: 'Get', path: `${base}/SecretKey` }),
      await srv.server.service.queue(GW_ID, { kind: 'Get', path: `${base}/BootstrapSecretKey` }),
      await srv.server.service.queue(GW_ID, { kind: 'Get', path: `${base}?list=StructData` }),
    ];
    await gw.gateway.checkIn();
    const [k, b, all] = await Promise.all(ops.map((o) => srv.server.service.operation(o.id)));
    assert.equal(k!.status, 405);
    assert.equal(b!.status, 405);
    assert.equal(all!.status, 200);
    assert.ok(all!.results!.some((r) => r.uri === `${base}/SecretKey` && r.data === undefined));

    const opsSeen = await (await fetch(`${api}/devices/${encodeURIComponent(GW_ID)}/operations?limit=100`)).text();
    const traced = trace
      .list()
      .flatMap((s) => s.messages.map((m) => messageXml(m)))
      .join('\n');
    assert.match(traced, /LwM2MCredentials\/meter-7\/SecretKey/, 'the trace has the session');
    for (const [where, text] of [
      ['API operations', opsSeen],
      ['trace', traced],
      ['log', lines.join('\n')],
    ] as const) {
      for (const secret of [KEY, BS_KEY]) assert.ok(!text.toLowerCase().includes(secret), `${where} shows a key`);
    }
    assert.match(opsSeen, /"path":"\.\/GwMO\/LwM2MCredentials\/meter-7\/SecretKey","source":null,"value":"\*\*\*\*\*"/);

    // RPK: the public key is stored as SPKI DER and found by it
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rpk = await put({ gateway: GW_ID, publicKey: publicKey.export({ format: 'pem', type: 'spki' }) });
    assert.equal(rpk.status, 200);
    assert.equal(gw.gateway.lwm2mCredentials.lookupPublicKey(publicKey.export({ format: 'der', type: 'spki' })), 'meter-7');

    // a second device may not take the first one's identity
    const taken = await put({ gateway: GW_ID, identity: 'meter-7', key: KEY2 });
    assert.equal(taken.status, 200, 'the same device: a rotation');
    const thief = await fetch(`${api}/devices/meter-8/lwm2m-credentials`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gateway: GW_ID, identity: 'meter-7', key: KEY }),
    });
    assert.equal(thief.status, 409);

    const del = await fetch(`${url}?gateway=${encodeURIComponent(GW_ID)}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.equal(gw.gateway.lwm2mCredentials.lookupPsk('meter-7'), undefined, 'forgotten: the next handshake fails');
    assert.equal((await fetch(`${url}?gateway=${encodeURIComponent(GW_ID)}`)).status, 404);
  } finally {
    await gw.close();
    await srv.close();
  }
});

test('rotation: the old key works until the device completes a handshake with the new one, then it is refused', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true });
  try {
    await gw.gateway.checkIn();
    const url = `${srv.url.replace(/\/dm$/, '/api')}/devices/meter-9/lwm2m-credentials`;
    const put = (body: Record<string, string>): Promise<Response> =>
      fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ gateway: GW_ID, ...body }) });
    const book = gw.gateway.lwm2mCredentials;
    const hex = (k: Uint8Array | undefined): string | undefined => (k ? Buffer.from(k).toString('hex') : undefined);

    assert.equal((await put({ identity: 'meter-9', key: KEY })).status, 200);
    book.proved('meter-9', Buffer.from(KEY, 'hex')); // in use
    // same identity, new key: both are offered, the new first
    assert.equal((await put({ identity: 'meter-9', key: KEY2 })).status, 200);
    let m = book.lookupPsk('meter-9')!;
    assert.deepEqual([hex(m.key), hex(m.previousKey)], [KEY2, KEY]);
    assert.equal(((await (await fetch(`${url}?gateway=${encodeURIComponent(GW_ID)}`)).json()) as { rotating: boolean }).rotating, true);
    book.proved('meter-9', Buffer.from(KEY, 'hex')); // the device woke with its old key: still fine
    assert.equal(hex(book.lookupPsk('meter-9')!.previousKey), KEY);
    book.proved('meter-9', Buffer.from(KEY2, 'hex')); // and now with the new one
    m = book.lookupPsk('meter-9')!;
    assert.deepEqual([hex(m.key), m.previousKey], [KEY2, undefined], 'the old key is refused from now on');

    // a new identity and key: the old identity keeps its old key until the new pair is used
    assert.equal((await put({ identity: 'meter-9b', key: KEY })).status, 200);
    assert.equal(hex(book.lookupPsk('meter-9')!.key), KEY2);
    assert.equal(hex(book.lookupPsk('meter-9b')!.key), KEY);
    book.proved('meter-9b', Buffer.from(KEY, 'hex'));
    assert.equal(book.lookupPsk('meter-9'), undefined);
    assert.equal(book.lookupPsk('meter-9b')!.endpoint, 'meter-9');

    // kept in the gateway's store: a restarted gateway knows them
    const { Lwm2mCredentials } = await import('../../src/gateway/lwm2m-credentials.ts');
    assert.equal(hex(new Lwm2mCredentials(gw.gstore).lookupPsk('meter-9b')!.key), KEY);
  } finally {
    await gw.close();
    await srv.close();
  }
});
