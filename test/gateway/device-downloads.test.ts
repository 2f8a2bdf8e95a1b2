// Bytes served by the gateway's LAN image store, counted per device: the fanout hands each device a
// link of its own, the LAN route counts on it, and a Range resume counts from where it resumes.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';

import type { JobCommand } from '../../src/store/gateway.ts';
import { GW_ID, startRig } from '../support/gw-pair.ts';

const SIZE = 1_000_000;
const bytes = randomBytes(SIZE);
const sha = createHash('sha256').update(bytes).digest('hex');

async function staged(t: Parameters<typeof startRig>[0]) {
  const r = await startRig(t, { images: true });
  const up = await fetch(`${r.api}/images?name=fw&version=2.0`, {
    method: 'POST',
    body: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(up.status, 201);
  const ready = r.srv.alertOf('imageready');
  const stage = await fetch(`${r.api}/gateways/${encodeURIComponent(GW_ID)}/images`, {
    method: 'POST',
    body: JSON.stringify({ image: sha, name: 'fw2' }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(stage.status, 202);
  await ready;
  return r;
}

/** Fetches `url` (a byte range of it), reading the whole answer; its status and length. */
async function get(url: string, range?: string): Promise<{ status: number; length: number }> {
  const res = await fetch(url, range ? { headers: { range } } : {});
  return { status: res.status, length: (await res.arrayBuffer()).byteLength };
}

test("each device's link counts the bytes served on it as that device's; a Range resume counts from where it resumes, not twice", async (t) => {
  const r = await staged(t);
  const { images, downloads } = r.gw.gateway;
  const plain = images.link(sha);
  const commands: JobCommand[] = [
    { kind: 'Replace', target: './FUMO/DownloadAndUpdate/PkgURL', data: plain },
    { kind: 'Replace', target: './FUMO/PkgName', data: 'fw2' },
    { kind: 'Exec', target: './FUMO/DownloadAndUpdate' },
  ];
  const [forA, forB] = [downloads.begin('job', 'IMEI:A', commands), downloads.begin('job', 'IMEI:B', commands)];
  const linkA = String(forA[0]!.data);
  const linkB = String(forB[0]!.data);
  assert.notEqual(linkA, plain);
  assert.notEqual(linkA, linkB);
  assert.match(linkA, /[?&]dev=IMEI%3AA&/);
  assert.deepEqual(forA.slice(1), commands.slice(1), 'only the image link changes');

  assert.deepEqual(await get(linkA), { status: 200, length: SIZE });
  // B is cut after 100,000 bytes and resumes from there, as a device does
  assert.deepEqual(await get(linkB, 'bytes=0-99999'), { status: 206, length: 100_000 });
  assert.deepEqual(downloads.of('job'), [
    ['IMEI:A', SIZE, SIZE],
    ['IMEI:B', 100_000, SIZE],
  ]);
  assert.deepEqual(await get(linkB, 'bytes=100000-249999'), { status: 206, length: 150_000 });
  assert.deepEqual(downloads.of('job'), [
    ['IMEI:A', SIZE, SIZE],
    ['IMEI:B', 250_000, SIZE],
  ]);
  assert.equal(images.served.bytes, SIZE + 250_000, 'the store served every byte once');

  // B's token does not open the image as A, nor does the plain link's token with a device named
  const forged = linkB.replace('dev=IMEI%3AB', 'dev=IMEI%3AA');
  assert.equal((await get(forged)).status, 403);
  assert.equal((await get(`${plain}&dev=IMEI%3AA`)).status, 403);
  // the plain link still opens it, counted for nobody
  assert.equal((await get(plain, 'bytes=0-9')).status, 206);
  assert.deepEqual(downloads.of('job'), [
    ['IMEI:A', SIZE, SIZE],
    ['IMEI:B', 250_000, SIZE],
  ]);

  // a device's turn that ends leaves the list; another job's devices are not in this one's
  downloads.end('job', 'IMEI:A');
  downloads.begin('other', 'IMEI:C', commands);
  assert.deepEqual(downloads.of('job'), [['IMEI:B', 250_000, SIZE]]);
});

test('a value that is not this gateway’s image link is handed to the device unchanged', async (t) => {
  const r = await staged(t);
  const { images, downloads } = r.gw.gateway;
  const other = [
    'http://127.0.0.1:1/images/x?token=0.abc', // the server's link (storage off on the gateway)
    `${images.baseUrl}/img/${sha}?token=0.${'A'.repeat(43)}`, // looks like ours, signed by nobody
    'not a url',
  ];
  const commands: JobCommand[] = other.map((data) => ({ kind: 'Replace', target: './FUMO/DownloadAndUpdate/PkgURL', data }));
  assert.deepEqual(downloads.begin('job', 'IMEI:A', commands), commands);
});
