// Images: uploaded once to the server, fetched once by the gateway (resuming a cut download),
// checked, stored by content, served on the LAN, installed by the devices from there.
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';

const SIZE = 3 * 1024 * 1024 + 17;
const bytes = randomBytes(SIZE);
const sha = createHash('sha256').update(bytes).digest('hex');

/** A TCP proxy to `port` that cuts the first connection once it has carried `cutAfter` bytes back. */
async function cuttingProxy(port: number, cutAfter: number): Promise<{ server: Server; port: number; cuts: number }> {
  const state = { server: createServer(), port: 0, cuts: 0 };
  state.server.on('connection', (client) => {
    const upstream = createConnection(port, '127.0.0.1');
    let down = 0;
    upstream.on('data', (c) => {
      down += c.length;
      if (state.cuts === 0 && down > cutAfter) {
        state.cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(c);
    });
    client.on('data', (c) => upstream.write(c));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.port = (state.server.address() as { port: number }).port;
  return state;
}

async function setup(n: number, cutAfter?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-img-'));
  // the server's real port is known only after it listens: start it, then front it with the proxy
  const first = await startServer({ imageDir: join(dir, 'server') });
  let proxy: Awaited<ReturnType<typeof cuttingProxy>> | undefined;
  if (cutAfter !== undefined) {
    proxy = await cuttingProxy(Number(new URL(first.url).port), cutAfter);
    first.server.gateways.publicBase = `http://127.0.0.1:${proxy.port}`;
  }
  const srv = first;
  const gw = await startGateway(srv.url, { imageDir: join(dir, 'gateway') });
  const devices = await startDevices(gw.gateway.lanUrl, n);
  await gw.gateway.checkIn();
  const api = srv.url.replace(/\/dm$/, '/api');
  const call = async (method: string, path: string, body?: unknown, raw?: Buffer) => {
    const res = await fetch(api + path, {
      method,
      ...(raw
        ? { body: raw, headers: { 'content-type': 'application/octet-stream' } }
        : body
          ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
          : {}),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  return {
    srv,
    gw,
    devices,
    call,
    dir,
    proxy,
    async close() {
      for (const d of devices) await d.stop();
      await gw.close();
      await srv.close();
      proxy?.server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const gid = encodeURIComponent(GW_ID);

test('one staging: the image crosses the WAN once, every device installs it from the gateway', async () => {
  const t = await setup(8);
  try {
    const up = await t.call('POST', '/images?name=firmware&version=2.0', undefined, bytes);
    assert.equal(up.status, 201, JSON.stringify(up.json));
    assert.equal(up.json.sha256, sha);
    const ready = t.srv.alertOf('imageready');
    const staged = await t.call('POST', `/gateways/${gid}/images`, { image: sha, name: 'fw2' });
    assert.equal(staged.status, 202, JSON.stringify(staged.json));
    const alert = await ready;
    assert.equal(alert.items[0]!.mark, 'informational');
    assert.match(String(alert.items[0]!.data), new RegExp(`^${t.gw.gateway.lanUrl.replace(/\/dm$/, '')}/img/${sha}\\?token=[^&]+$`));
    // staged twice under another name: stored once, fetched once
    const again = t.srv.alertOf('imageready');
    t.srv.alerts.length = 0;
    await t.call('POST', `/gateways/${gid}/images`, { image: sha, name: 'fw2-copy' });
    await again;
    assert.deepEqual(readdirSync(join(t.dir, 'gateway', 'sha256')), [sha]);
    assert.equal(t.srv.server.images!.served.bytes, SIZE, 'server egress = one image');

    const done = t.srv.alertOf('resultaggregation', 30_000);
    const dist = await t.call('POST', `/gateways/${gid}/distributions`, {
      image: 'fw2',
      name: 'rollout',
      object: 'fumo',
      devices: t.devices.map((_, i) => `IMEI:${String(i).padStart(15, '0')}`),
    });
    assert.equal(dist.status, 202, JSON.stringify(dist.json));
    const agg = await done;
    assert.equal(agg.items[0]!.data, '<Aggregate total="8"><Status code="200" count="8"/></Aggregate>');
    for (const d of t.devices) assert.equal(d.fumo.installed?.sha256, sha);
    assert.equal(t.srv.server.images!.served.bytes, SIZE, 'devices fetched from the gateway, not the server');
    assert.equal(t.gw.gateway.images.served.bytes, 8 * SIZE);
    const list = await t.call('GET', `/gateways/${gid}/images`);
    assert.deepEqual([list.json.fw2.State, list.json.fw2.BytesReceived, list.json.fw2.Hash], ['30', String(SIZE), `sha256:${sha}`]);
  } finally {
    await t.close();
  }
});

test('a connection cut mid-download resumes from where it stopped', async () => {
  const t = await setup(1, 1024 * 1024);
  try {
    await t.call('POST', '/images?name=big&version=1', undefined, bytes);
    const ready = t.srv.alertOf('imageready');
    await t.call('POST', `/gateways/${gid}/images`, { image: sha, name: 'big' });
    const alert = await ready;
    assert.equal(alert.items[0]!.mark, 'informational', String(alert.items[0]!.data));
    assert.equal(t.proxy!.cuts, 1);
    const served = t.srv.server.images!.served;
    assert.equal(served.requests, 2, 'a second request, with Range');
    assert.ok(served.bytes < 2 * SIZE && served.bytes >= SIZE, `${served.bytes} bytes served for a ${SIZE}-byte image`);
    assert.deepEqual(readdirSync(join(t.dir, 'gateway', 'sha256')), [sha]);
  } finally {
    await t.close();
  }
});

test('hash mismatch and quota: reported to the server as critical, nothing left on disk', async () => {
  const t = await setup(0);
  try {
    await t.call('POST', '/images?name=x&version=1', undefined, bytes);
    const base = './GwMO/Images/bad';
    const failed = t.srv.alertOf('imageready');
    for (const o of [
      { kind: 'Add' as const, path: base, format: 'node' },
      { kind: 'Replace' as const, path: `${base}/Hash`, value: `sha256:${'0'.repeat(64)}` },
      {
        kind: 'Replace' as const,
        path: `${base}/DownloadURL`,
        value: `${t.srv.server.gateways.publicBase}/images/${sha}?token=${await t.srv.server.images!.linkToken(sha, Date.now() + 60_000)}`,
      },
      { kind: 'Exec' as const, path: `${base}/Operations/Download` },
    ])
      await t.srv.server.service.queue(GW_ID, o);
    await t.gw.gateway.checkIn();
    const a = await failed;
    assert.equal(a.items[0]!.mark, 'critical');
    assert.match(String(a.items[0]!.data), /hash-mismatch/);
    assert.deepEqual(readdirSync(join(t.dir, 'gateway', 'sha256')), [], 'no partial file');
    assert.equal(t.gw.gstore.getImage('bad')?.state, 40);

    t.srv.alerts.length = 0;
    assert.equal((await t.call('PUT', `/gateways/${gid}/config`, { 'ImageStore/QuotaBytes': 1000 })).status, 200);
    const quota = t.srv.alertOf('imageready');
    await t.call('POST', `/gateways/${gid}/images`, { image: sha, name: 'toobig' });
    assert.match(String((await quota).items[0]!.data), /quota exceeded/);
    assert.deepEqual(readdirSync(join(t.dir, 'gateway', 'sha256')), []);
  } finally {
    await t.close();
  }
});

test('storage switched off: the gateway says so and devices fetch from the server', async () => {
  const t = await setup(3);
  try {
    await t.call('POST', '/images?name=y&version=1', undefined, bytes);
    await t.call('PUT', `/gateways/${gid}/config`, { 'ImageStore/Enabled': false });
    const said = t.srv.alertOf('imageready');
    await t.call('POST', `/gateways/${gid}/images`, { image: sha, name: 'direct' });
    const a = await said;
    assert.equal(a.items[0]!.mark, 'warning');
    const id = (await t.srv.server.images!.get(sha))!.id;
    assert.match(String(a.items[0]!.data), new RegExp(`^${t.srv.server.gateways.publicBase}/images/${id}\\?token=`));
    const done = t.srv.alertOf('resultaggregation', 30_000);
    await t.call('POST', `/gateways/${gid}/distributions`, {
      image: 'direct',
      object: 'fumo',
      devices: t.devices.map((_, i) => `IMEI:${String(i).padStart(15, '0')}`),
    });
    assert.equal((await done).items[0]!.data, '<Aggregate total="3"><Status code="200" count="3"/></Aggregate>');
    assert.equal(t.srv.server.images!.served.bytes, 3 * SIZE, 'each device fetched from the server');
    assert.equal(t.gw.gateway.images.served.bytes, 0);
  } finally {
    await t.close();
  }
});

test('LAN serving: Range, HEAD, ETag, 416 past the end, 404 for unknown images', async () => {
  const t = await setup(0);
  try {
    await t.call('POST', '/images?name=z&version=1', undefined, bytes);
    const ready = t.srv.alertOf('imageready');
    await t.call('POST', `/gateways/${gid}/images`, { image: sha, name: 'z' });
    const url = String((await ready).items[0]!.data);
    const part = await fetch(url, { headers: { range: 'bytes=10-19' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 10-19/${SIZE}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(10, 20));
    const tail = await fetch(url, { headers: { range: 'bytes=-5' } });
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), bytes.subarray(SIZE - 5));
    const past = await fetch(url, { headers: { range: `bytes=${SIZE}-` } });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${SIZE}`);
    await past.arrayBuffer();
    const head = await fetch(url, { method: 'HEAD' });
    assert.deepEqual([head.status, head.headers.get('content-length'), head.headers.get('etag')], [200, String(SIZE), `"${sha}"`]);
    const cached = await fetch(url, { headers: { 'if-none-match': `"${sha}"` } });
    assert.equal(cached.status, 304);
    const missing = await fetch(t.gw.gateway.images.link('f'.repeat(64)));
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
  } finally {
    await t.close();
  }
});
