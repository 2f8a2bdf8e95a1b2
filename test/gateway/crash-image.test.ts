// A gateway killed with SIGKILL at random offsets of an image download, several times: each start
// resumes it with a Range request from the bytes on disk, and the image ends stored once, with the
// right SHA-256, reported by one imageready alert with the staging's correlator.
// Actors: an in-process DM server, a gateway process, and an HTTP server that serves the image
// slowly (16 KiB at a time), honours Range, and says how many bytes it has sent.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { gatewayArgs } from '../support/gateway-process.ts';
import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';
import { freePort } from '../support/ports.ts';
import { GwmoProcess } from '../support/process.ts';

const KILLS = Number(process.env['GWMO_CRASH_IMAGE_KILLS'] ?? 3);
const SIZE = 4 * 1024 * 1024;
const CHUNK = 16 * 1024;

/** Serves `bytes` at /fw.bin, a chunk per tick; emits 'sent' (bytes of this response so far, start offset). */
async function slowServer(bytes: Buffer) {
  const progress = new EventEmitter();
  const ranges: number[] = [];
  const server = createServer((req, res) => {
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const from = m ? Number(m[1]) : 0;
    ranges.push(from);
    res.writeHead(m ? 206 : 200, {
      'content-length': String(bytes.length - from),
      ...(m ? { 'content-range': `bytes ${from}-${bytes.length - 1}/${bytes.length}` } : {}),
    });
    let at = from;
    const next = (): void => {
      if (res.destroyed) return;
      if (at >= bytes.length) return void res.end();
      const end = Math.min(bytes.length, at + CHUNK);
      res.write(bytes.subarray(at, end));
      at = end;
      progress.emit('sent', at);
      setTimeout(next, 2);
    };
    next();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fw.bin`, progress, ranges, server };
}

test(`SIGKILL at ${KILLS} random offsets of an image download: stored once with the right SHA-256`, { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-crash-image-'));
  const srv = await startServer();
  const image = randomBytes(SIZE);
  const sha256 = createHash('sha256').update(image).digest('hex');
  const http = await slowServer(image);
  const args = gatewayArgs(srv.url, await freePort(), dir);
  let gateway = new GwmoProcess(args);
  try {
    await gateway.waitFor((l) => l.event === 'north.session');
    const base = './GwMO/Images/fw';
    const correlator = 'staging-fw-1';
    for (const o of [
      { kind: 'Add' as const, path: base, format: 'node' },
      { kind: 'Replace' as const, path: `${base}/Size`, value: String(SIZE), format: 'int' },
      { kind: 'Replace' as const, path: `${base}/Hash`, value: `sha256:${sha256}` },
      { kind: 'Replace' as const, path: `${base}/DownloadURL`, value: http.url },
      { kind: 'Exec' as const, path: `${base}/Operations/Download`, correlator },
    ])
      await srv.server.service.queue(GW_ID, o);
    await srv.server.service.notify(GW_ID);
    for (let k = 0; k < KILLS; k++) {
      // somewhere in the bytes still to come
      const from = http.ranges[http.ranges.length - 1] ?? 0;
      const killAt = from + Math.floor(Math.random() * 0.5 * (SIZE - from)) + CHUNK;
      if (http.ranges.length === 0) await once(http.progress, 'sent');
      while ((await once(http.progress, 'sent'))[0] < killAt);
      gateway.child.kill('SIGKILL');
      await once(gateway.child, 'exit');
      gateway = new GwmoProcess(args);
      await gateway.waitFor((l) => l.event === 'image.resumed');
    }
    const alert = await srv.alertOf('imageready', 60_000);
    assert.equal(alert.correlator, correlator);
    assert.equal(alert.items[0]!.mark ?? 'informational', 'informational', String(alert.items[0]!.data));
    assert.ok(
      http.ranges.slice(1).some((r) => r > 0),
      `a restart resumed from the bytes on disk (ranges asked: ${http.ranges.join(', ')})`,
    );
    const files = await readdir(join(dir, 'images', 'sha256'));
    assert.deepEqual(files, [sha256], 'the image once, nothing partial left');
    assert.equal(
      createHash('sha256')
        .update(await readFile(join(dir, 'images', 'sha256', sha256)))
        .digest('hex'),
      sha256,
    );
    assert.equal(srv.alerts.filter((a) => a.alert.items.some((i) => i.type?.includes('imageready'))).length, 1, 'one imageready alert');
  } finally {
    await gateway.stop();
    http.server.closeAllConnections();
    http.server.close();
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a staging under way is cancelled through the API (imageready says so, nothing left on disk), and staging it again retries it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-cancel-image-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const srv = await startServer();
  t.after(() => srv.close());
  const gw = await startGateway(srv.url, { imageDir: dir });
  t.after(() => gw.close());
  const image = randomBytes(SIZE);
  const sha256 = createHash('sha256').update(image).digest('hex');
  const http = await slowServer(image);
  t.after(() => (http.server.closeAllConnections(), http.server.close()));
  const stage = async (correlator: string) => {
    const base = './GwMO/Images/fw';
    for (const o of [
      { kind: 'Add' as const, path: base, format: 'node' },
      { kind: 'Replace' as const, path: `${base}/Size`, value: String(SIZE), format: 'int' },
      { kind: 'Replace' as const, path: `${base}/Hash`, value: `sha256:${sha256}` },
      { kind: 'Replace' as const, path: `${base}/DownloadURL`, value: http.url },
      { kind: 'Exec' as const, path: `${base}/Operations/Download`, correlator },
    ])
      await srv.server.service.queue(GW_ID, o);
    await gw.gateway.checkIn();
  };
  await stage('first');
  while ((await once(http.progress, 'sent'))[0] < SIZE / 4);
  const api = srv.url.replace(/\/dm$/, '/api');
  const cancel = () => fetch(`${api}/gateways/${encodeURIComponent(GW_ID)}/images/fw/cancel?wait=10`, { method: 'POST' });
  const res = await cancel();
  assert.equal(res.status, 200, await res.clone().text());
  assert.deepEqual(await res.json(), { name: 'fw', cancelled: true });
  await gw.gateway.checkIn();
  const cancelled = await srv.alertOf('imageready', 10_000);
  assert.equal(cancelled.correlator, 'first');
  assert.equal(cancelled.items[0]!.mark, 'critical');
  assert.match(String(cancelled.items[0]!.data), /^cancelled: /);
  assert.deepEqual(await readdir(join(dir, 'sha256')), [], 'no partial download left');

  srv.alerts.length = 0;
  await stage('again');
  const stored = await srv.alertOf('imageready', 30_000);
  assert.equal(stored.correlator, 'again');
  assert.equal(stored.items[0]!.mark ?? 'informational', 'informational');
  assert.deepEqual(await readdir(join(dir, 'sha256')), [sha256]);
  // a stored image is not cancelled: it is removed
  assert.equal((await cancel()).status, 409);
});
