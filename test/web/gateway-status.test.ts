// The gateway's status page on its LAN listener, over real HTTP, with what a real server staged and
// started on it: identity, last check-in, devices counted, a fanout running, an image stored; every
// value escaped (the job, the image and its version carry & ' < > on purpose), no script.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { gatewayStatus } from '../../src/api/gateway-status.ts';
import { statusRoute } from '../../src/web/gateway-status.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';
import { nextEvent } from '../support/sse.ts';

const gid = encodeURIComponent(GW_ID);

test('the gateway status page shows its identity, devices, the fanout running and the image stored, every value escaped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-status-'));
  const srv = await startServer({ imageDir: join(dir, 'server') });
  const gw = await startGateway(srv.url, { imageDir: join(dir, 'gateway'), lanRoutes: statusRoute(gatewayStatus) });
  const devices = await startDevices(gw.gateway.lanUrl, 2);
  const page = gw.gateway.lanUrl.replace(/\/dm$/, '');
  try {
    await gw.gateway.checkIn();
    const api = srv.url.replace(/\/dm$/, '/api');
    const post = async (path: string, body: unknown, raw?: Buffer) => {
      const res = await fetch(api + path, {
        method: 'POST',
        headers: { 'content-type': raw ? 'application/octet-stream' : 'application/json' },
        body: raw ?? JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, string> };
    };
    const before = await (await fetch(`${page}/status`)).text();
    assert.match(before, /<h2 id="fanouts-h">Fanouts running: 0<\/h2><p>No fanout running.<\/p>/);
    assert.match(before, /<p>No image stored.<\/p>/);

    const up = await post(`/images?name=fw&version=${encodeURIComponent('<b>2</b>')}`, undefined, randomBytes(4096));
    assert.equal(up.status, 201);
    const ready = srv.alertOf('imageready');
    assert.equal((await post(`/gateways/${gid}/images`, { image: up.json['sha256'], name: "fw&'1" })).status, 202);
    await ready;
    // the second device cannot be woken: the job runs on, one device of two done
    await devices[1]!.stop();
    const firstDone = nextEvent<string>(gw.gateway.events, 'progress', (job) => job === "run&'1", 15_000);
    assert.equal(
      (
        await post(`/gateways/${gid}/fanouts`, {
          name: "run&'1",
          devices: ['IMEI:000000000000000', 'IMEI:000000000000001'],
          timeout: 60,
          retries: 0,
          commands: [{ kind: 'Get', path: './DevInfo/Mod' }],
        })
      ).status,
      202,
    );
    await firstDone;

    const res = await fetch(`${page}/status`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await res.text();
    assert.match(html, /<html lang="en">/);
    assert.match(html, /<h1>Gateway GW:0001<\/h1>/);
    assert.match(html, new RegExp(`<dd>srv at ${srv.url.replace(/[.]/g, '\\.')}</dd>`));
    assert.match(html, /<dd id="last-check-in"><time datetime="[0-9T:.Z-]+">[0-9T:.Z-]+<\/time> \(done\)<\/dd>/);
    assert.match(html, /<h2 id="devices-h">Devices: 2<\/h2>/);
    assert.match(html, /<th scope="row">proxy<\/th><td>2<\/td>/);
    assert.match(html, /<th scope="row">OMA-DM\/1\.2<\/th><td>2<\/td>/);
    assert.match(html, /<th scope="row">run&amp;&#39;1<\/th><td>running<\/td><td>1 of 2<\/td>/);
    assert.match(html, /<th scope="row">fw&amp;&#39;1<\/th><td>&lt;b&gt;2&lt;\/b&gt;<\/td><td>stored<\/td><td>4096 of 4096<\/td>/);
    assert.ok(!html.includes('<b>') && !html.includes("run&'1") && !/<script/i.test(html), 'nothing unescaped, no script');
    assert.ok(!/lan-pw|lan-srv-pw|gw-pw|srv-pw/.test(html), 'no credential on the page');

    assert.equal(
      await (await fetch(`${page}/`)).text().then((t) => t.replace(/<time[^]*?<\/time>/g, '')),
      html.replace(/<time[^]*?<\/time>/g, ''),
      '/ is the same page',
    );
    const head = await fetch(`${page}/status`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const refused = await fetch(`${page}/status`, { method: 'POST' });
    assert.equal(refused.status, 405);
    assert.equal(refused.headers.get('allow'), 'GET, HEAD');
    await refused.text();
  } finally {
    for (const d of devices) await d.stop();
    await gw.close();
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
