// Uploaded images as an attacker would use them: HTML or SVG "images" must never be served as a page
// on the dashboard's origin; nobody without an API login, DM credentials or a signed link downloads
// one; the store has a quota; deleting refuses what a gateway may still fetch; an upload never
// takes another's name. Actors: admin, operator, viewer (API users with tokens), GW:0001 (a gateway
// with DM credentials gw / gw-pw), anonymous (no credentials).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { byteSize } from '../../src/cli/options.ts';
import { runCli } from '../support/cli.ts';
import { GW_ID } from '../support/gw-pair.ts';
import { startSecuredRig } from '../support/secured-rig.ts';

const HTML = Buffer.from(
  '<!doctype html><script>fetch("/api/users",{method:"POST",headers:{"content-type":"application/json"},body:JSON.stringify({name:"evil",role:"admin",password:"evil-password-1"})})</script>',
);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>document.title="ran"</script></svg>');
const gid = encodeURIComponent(GW_ID);
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

function assertInert(res: Response): void {
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; sandbox");
}

/** Files in the server's image folder other than records and the link key: the bytes kept. */
const blobs = (dir: string): string[] => readdirSync(join(dir, 'server')).filter((f) => /^[0-9a-f]{64}$/.test(f));

test('an HTML or SVG upload is served as an attachment of bytes, nosniff, sandboxed, whatever type it claimed', async (t) => {
  const { call, base, tokens } = await startSecuredRig(t);
  for (const [bytes, type] of [
    [HTML, 'text/html'],
    [SVG, 'image/svg+xml'],
  ] as const) {
    const up = await call('operator', 'POST', `/images?name=notes&version=${type.length}`, undefined, { bytes, type });
    assert.equal(up.status, 201, JSON.stringify(up.json));
    assert.equal(up.json.contentType, type, 'the claim is kept as a label');
    const res = await fetch(`${base}/images/${up.json.id}`, { headers: { authorization: `Bearer ${tokens['viewer']}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.equal(
      res.headers.get('content-disposition'),
      `attachment; filename="notes-${type.length}.bin"; filename*=UTF-8''notes-${type.length}.bin`,
    );
    assertInert(res);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
  }
  assert.deepEqual((await call('admin', 'GET', '/users')).json.items.map((u: { name: string }) => u.name).sort(), [
    'admin',
    'operator',
    'viewer',
  ]);
});

test('a name with quotes, slashes or non-ASCII gives a safe Content-Disposition; control characters are refused', async (t) => {
  const { call, base, tokens } = await startSecuredRig(t);
  const up = await call('operator', 'POST', `/images?name=${encodeURIComponent('../a"b;c ü')}&version=1`, undefined, {
    bytes: HTML,
    type: 'text/html',
  });
  assert.equal(up.status, 201);
  const res = await fetch(`${base}/images/${up.json.id}`, { method: 'HEAD', headers: { authorization: `Bearer ${tokens['viewer']}` } });
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="ab_c _-1.bin"; filename*=UTF-8''ab%3Bc%20%C3%BC-1.bin`);
  const before = (await call('viewer', 'GET', '/images')).json.items.length;
  const bad = await call('operator', 'POST', `/images?name=${encodeURIComponent('x\r\nSet-Cookie: a=b')}&version=1`, undefined, {
    bytes: HTML,
    type: 'text/html',
  });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /control characters/);
  assert.equal((await call('viewer', 'GET', '/images')).json.items.length, before, 'nothing added');
});

test('anonymous, a wrong token, a forged or expired link: refused with what to do, no bytes', async (t) => {
  const { call, base, srv } = await startSecuredRig(t);
  const up = await call('operator', 'POST', '/images?name=fw&version=1', undefined, { bytes: HTML, type: 'text/html' });
  const url = `${base}/images/${up.json.id}`;
  const served = { ...srv.server.images!.served };
  const anon = await fetch(url);
  assert.equal(anon.status, 401);
  assert.equal(anon.headers.get('www-authenticate'), 'Basic realm="gwmo images"');
  assert.match(
    await anon.text(),
    /needs credentials: an API token or login, a device's DM credentials \(HTTP Basic\), or the link the server handed out/,
  );
  assertInert(anon);
  const sha = await fetch(`${base}/images/${up.json.sha256}`);
  assert.equal(sha.status, 401, 'knowing the hash is not enough');
  await sha.arrayBuffer();
  const wrong = await fetch(url, { headers: { authorization: 'Bearer gwmo_not-a-token' } });
  assert.equal(wrong.status, 401);
  assert.match(await wrong.text(), /API token is unknown/);
  const forged = await fetch(`${url}?token=${await srv.server.images!.linkToken(randomBytes(16).toString('hex'), Date.now() + 60_000)}`);
  assert.equal(forged.status, 403);
  assert.match(await forged.text(), /not valid for this image/);
  const expired = await fetch(`${url}?token=${await srv.server.images!.linkToken(up.json.id, Date.now() - 1000)}`);
  assert.equal(expired.status, 403);
  assert.match(await expired.text(), /expired/);
  assert.deepEqual(srv.server.images!.served, served, 'no byte served');
});

test('an API user, a device with its DM credentials, or a signed link may download', async (t) => {
  const { call, base, srv, tokens } = await startSecuredRig(t);
  const bytes = randomBytes(5000);
  const up = await call('operator', 'POST', '/images?name=fw&version=1', undefined, { bytes, type: 'application/octet-stream' });
  const url = `${base}/images/${up.json.id}`;
  for (const headers of [{ authorization: `Bearer ${tokens['viewer']}` }, basic('gw', 'gw-pw')]) {
    const res = await fetch(`${url}?device=${gid}`, { headers });
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
  }
  const link = await fetch(`${url}?token=${await srv.server.images!.linkToken(up.json.id, Date.now() + 60_000)}`, {
    headers: { range: 'bytes=10-19' },
  });
  assert.equal(link.status, 206);
  assert.deepEqual(Buffer.from(await link.arrayBuffer()), bytes.subarray(10, 20));
  for (const [user, password, device] of [
    ['gw', 'wrong', GW_ID],
    ['gw', 'gw-pw', 'IMEI:unknown'],
  ]) {
    const res = await fetch(`${url}?device=${encodeURIComponent(device!)}`, { headers: basic(user!, password!) });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /DM credentials were not accepted/, 'the same answer for a wrong password and an unknown device');
  }
});

test('404 and 416 from the image route are plain text, nosniff, sandboxed', async (t) => {
  const { call, base, tokens } = await startSecuredRig(t);
  const auth = { authorization: `Bearer ${tokens['viewer']}` };
  const missing = await fetch(`${base}/images/${'e'.repeat(64)}`, { headers: auth });
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get('content-type')!, /^text\/plain/);
  assertInert(missing);
  await missing.arrayBuffer();
  const up = await call('operator', 'POST', '/images?name=fw&version=1', undefined, { bytes: HTML, type: 'text/html' });
  const past = await fetch(`${base}/images/${up.json.id}`, { headers: { ...auth, range: `bytes=${HTML.length}-` } });
  assert.equal(past.status, 416);
  assert.match(past.headers.get('content-type')!, /^text\/plain/);
  assertInert(past);
  await past.arrayBuffer();
});

test('the same bytes uploaded under a new name: one copy, each upload its own name, version and id', async (t) => {
  const { call, dir } = await startSecuredRig(t);
  const bytes = randomBytes(2000);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const first = await call('operator', 'POST', '/images?name=fw&version=1', undefined, { bytes, type: 'application/octet-stream' });
  const second = await call('operator', 'POST', '/images?name=fw-copy&version=2', undefined, { bytes, type: 'application/octet-stream' });
  assert.equal(second.status, 201);
  assert.deepEqual([second.json.name, second.json.version, second.json.sha256], ['fw-copy', '2', sha]);
  assert.notEqual(second.json.id, first.json.id);
  assert.deepEqual(blobs(dir), [sha], 'the bytes once');
  const again = await call('operator', 'POST', '/images?name=fw&version=1', undefined, {
    bytes: randomBytes(10),
    type: 'application/octet-stream',
  });
  assert.equal(again.status, 409);
  assert.match(again.json.error, /an image named "fw" with version "1" exists/);
  const list = (await call('viewer', 'GET', '/images')).json.items;
  assert.deepEqual(
    list.map((i: { name: string; version: string }) => `${i.name} ${i.version}`),
    ['fw 1', 'fw-copy 2'],
    'nothing replaced',
  );
  assert.deepEqual(blobs(dir), [sha]);
});

test('an upload past the store quota gets 413 naming the quota, and nothing is kept', async (t) => {
  const { call, dir } = await startSecuredRig(t, { imageQuotaBytes: 10_000 });
  assert.equal(
    (await call('operator', 'POST', '/images?name=a&version=1', undefined, { bytes: randomBytes(6000), type: 'application/octet-stream' }))
      .status,
    201,
  );
  const before = { list: (await call('viewer', 'GET', '/images')).json.items.length, files: readdirSync(join(dir, 'server')).sort() };
  const over = await call('operator', 'POST', '/images?name=b&version=1', undefined, {
    bytes: randomBytes(6000),
    type: 'application/octet-stream',
  });
  assert.equal(over.status, 413);
  assert.match(over.json.error, /the image store quota of 10000 bytes would be exceeded \(6000 bytes used\)/);
  assert.equal((await call('viewer', 'GET', '/images')).json.items.length, before.list);
  assert.deepEqual(readdirSync(join(dir, 'server')).sort(), before.files, 'no partial file left');
  assert.equal((await call('viewer', 'GET', '/images')).json.quotaBytes, 10_000);
});

test('DELETE /api/images/{id}: 404 unknown, 403 for a viewer, 204 then gone, the bytes kept while another upload names them', async (t) => {
  const { call, base, dir, tokens } = await startSecuredRig(t);
  const bytes = randomBytes(3000);
  const a = (await call('operator', 'POST', '/images?name=a&version=1', undefined, { bytes, type: 'application/octet-stream' })).json;
  const b = (await call('operator', 'POST', '/images?name=b&version=1', undefined, { bytes, type: 'application/octet-stream' })).json;
  const unknown = await call('operator', 'DELETE', '/images/00000000-0000-4000-8000-000000000000');
  assert.equal(unknown.status, 404);
  assert.match(unknown.json.error, /no image 00000000-0000-4000-8000-000000000000/);
  const viewer = await call('viewer', 'DELETE', `/images/${a.id}`);
  assert.equal(viewer.status, 403);
  assert.equal((await call('viewer', 'GET', '/images')).json.items.length, 2, 'nothing deleted');
  assert.equal((await call('operator', 'DELETE', `/images/${a.id}`)).status, 204);
  const gone = await fetch(`${base}/images/${a.id}`, { headers: { authorization: `Bearer ${tokens['viewer']}` } });
  assert.equal(gone.status, 404);
  await gone.arrayBuffer();
  assert.deepEqual(blobs(dir), [a.sha256], 'b still names the bytes');
  assert.equal((await call('operator', 'DELETE', `/images/${b.id}`)).status, 204);
  assert.deepEqual(blobs(dir), [], 'the last upload takes the bytes with it');
  assert.deepEqual((await call('viewer', 'GET', '/images')).json.items, []);
});

test('DELETE is refused with 409 while devices behind a gateway fetch the image from the server', async (t) => {
  const { call, srv } = await startSecuredRig(t);
  const up = (
    await call('operator', 'POST', '/images?name=fw&version=1', undefined, { bytes: randomBytes(4000), type: 'application/octet-stream' })
  ).json;
  assert.equal((await call('admin', 'PUT', `/gateways/${gid}/config`, { 'ImageStore/Enabled': false })).status, 200);
  const said = srv.alertOf('imageready');
  assert.equal((await call('operator', 'POST', `/gateways/${gid}/images`, { image: up.id, name: 'direct' })).status, 202);
  assert.equal((await said).items[0]!.mark, 'warning');
  assert.deepEqual((await call('viewer', 'GET', '/images')).json.items[0].stagings, [
    { gateway: GW_ID, name: 'direct', state: 'devices-fetch-here' },
  ]);
  const refused = await call('operator', 'DELETE', `/images/${up.id}`);
  assert.equal(refused.status, 409);
  assert.match(refused.json.error, /in use: devices behind gateway GW:0001 fetch it from this server as "direct"/);
  assert.equal((await call('viewer', 'GET', '/images')).json.items.length, 1, 'nothing deleted');
});

test('a staged image is fetched by the gateway through a signed link, and once stored there it may be deleted', async (t) => {
  const { call, srv, gw } = await startSecuredRig(t);
  const bytes = randomBytes(4000);
  const up = (await call('operator', 'POST', '/images?name=fw&version=1', undefined, { bytes, type: 'text/html' })).json;
  const ready = srv.alertOf('imageready');
  assert.equal((await call('operator', 'POST', `/gateways/${gid}/images`, { image: up.id, name: 'fw1' })).status, 202);
  const alert = await ready;
  assert.equal(alert.items[0]!.mark, 'informational', String(alert.items[0]!.data));
  assert.match(gw.gstore.getImage('fw1')!.downloadUrl!, new RegExp(`/images/${up.id}\\?token=`));
  assert.deepEqual(
    (await call('viewer', 'GET', '/images')).json.items[0].stagings,
    [],
    'stored on the gateway: our copy is no longer needed',
  );
  assert.equal((await call('operator', 'DELETE', `/images/${up.id}`)).status, 204);
});

test('gateway LAN: only the link the gateway handed out opens an image, served as inert bytes', async (t) => {
  const { call, srv, gw } = await startSecuredRig(t);
  const up = (await call('operator', 'POST', '/images?name=page&version=1', undefined, { bytes: HTML, type: 'text/html' })).json;
  const ready = srv.alertOf('imageready');
  await call('operator', 'POST', `/gateways/${gid}/images`, { image: up.id, name: 'page' });
  const link = String((await ready).items[0]!.data);
  const res = await fetch(link);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="page-1.bin"; filename*=UTF-8''page-1.bin`);
  assertInert(res);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), HTML);
  const served = { ...gw.gateway.images.served };
  const bare = await fetch(link.split('?')[0]!);
  assert.equal(bare.status, 401);
  assert.match(await bare.text(), /fetched with the link the gateway handed out/);
  assertInert(bare);
  const forged = await fetch(`${link.split('?')[0]!}?token=0.${'A'.repeat(43)}`);
  assert.equal(forged.status, 403);
  assert.match(await forged.text(), /not valid for this image/);
  assert.deepEqual(gw.gateway.images.served, served, 'no byte served');
});

test('gwmo server --image-quota takes sizes such as 500MiB and refuses anything else before starting', async () => {
  assert.equal(byteSize('--image-quota', '500MiB'), 500 * 1024 ** 2);
  assert.equal(byteSize('--image-quota', '10GiB'), 10 * 1024 ** 3);
  assert.equal(byteSize('--image-quota', '2GB'), 2e9);
  assert.equal(byteSize('--image-quota', '1048576'), 1048576);
  const run = await runCli(['server', '--port', '0', '--db', ':memory:', '--image-quota', 'lots']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--image-quota must be a size such as 10GiB, 500MiB or 1048576 \(bytes\), got "lots"/);
});
