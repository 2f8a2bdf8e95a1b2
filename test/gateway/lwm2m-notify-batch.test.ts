// Notifications that arrive while a north session is under way go in the next one as one Generic
// Alert: one item for the device with every record in order. A proxy on the way to the server holds
// the session (real HTTP both sides), so the notifications certainly arrive meanwhile.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';

import { gatewayStatus } from '../../src/api/gateway-status.ts';
import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { LOCAL } from '../../src/tree/index.ts';
import { renderGatewayStatus } from '../../src/web/gateway-status.ts';
import { startGateway, startServer } from '../support/gw-pair.ts';

/** forwards to `target`; while held, requests wait (their count in `waiting`) */
async function holdingProxy(target: string) {
  let gate: Promise<void> = Promise.resolve();
  let release = (): void => {};
  const proxy = {
    waiting: 0,
    hold(): void {
      gate = new Promise((resolve) => (release = resolve));
    },
    release: (): void => release(),
  };
  const server = createServer((req, res) => {
    proxy.waiting++;
    server.emit('waiting');
    void gate.then(() => {
      proxy.waiting--;
      const up = request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = new URL(target);
  return { ...proxy, server, proxy, url: `http://127.0.0.1:${port}${url.pathname}`, close: () => server.close() };
}

/** resolves once `done()` holds, checked on every turn of the event loop; fails after `ms` */
async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`${what}: not after ${ms} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('five notifications during one north session reach the server as one alert: one item, five records in order', async () => {
  const srv = await startServer();
  const p = await holdingProxy(srv.url);
  const gw = await startGateway(p.url, { lwm2m: true });
  const dev = new Lwm2mDevice({ endpoint: 'lwN', server: `coap://${gw.gateway.lwm2mAddress}` });
  try {
    const registered = once(gw.gateway.lwm2m!, 'registered', { signal: AbortSignal.timeout(10_000) });
    await dev.start();
    await registered;
    const tree = gw.gateway.tree;
    await tree.add(LOCAL, './GwMO/Observations/t', { format: 'node' });
    await tree.replace(LOCAL, './GwMO/Observations/t/Path', { data: './3303/0/5700' });
    await tree.replace(LOCAL, './GwMO/Observations/t/Devices', { data: 'lwN' });
    assert.equal(await tree.exec(LOCAL, './GwMO/Observations/t/Operations/Start', {}), 200);
    await gw.gateway.observations!.start('t');
    await gw.gateway.idle(); // the value at the start has gone north

    const batch = gw.gateway.alertBatch;
    const before = batch.counters;
    p.proxy.hold();
    dev.set(3303, 0, 5700, 0); // its session is held at the proxy, with this one record
    await until(() => p.proxy.waiting === 1 && batch.counters.waiting === 0, 10_000, 'the session with the first record');
    for (const v of [1, 2, 3, 4, 5]) dev.set(3303, 0, 5700, v);
    await until(() => batch.counters.waiting === 5, 10_000, 'five notifications at the gateway');
    srv.alerts.length = 0;
    p.proxy.release();
    await gw.gateway.idle();

    const notify = srv.alerts.map((a) => a.alert).filter((a) => a.items.some((i) => i.type === 'org.gwmo.lwm2m.notify'));
    const values = notify.map((a) => a.items.map((i) => (JSON.parse(String(i.data)) as { n: string; v: number }[]).map((r) => r.v)));
    assert.deepEqual(values, [[[0]], [[1, 2, 3, 4, 5]]], 'the held session carried 0; the next one alert, one item, 1…5');
    assert.ok(String(notify[1]!.items[0]!.source).endsWith('/lwN'));
    const after = batch.counters;
    assert.deepEqual([after.queued - before.queued, after.alerts - before.alerts, after.waiting, after.dropped], [6, 2, 0, 0]);
    const metrics = await (await fetch(gw.gateway.lanUrl.replace(/\/dm$/, '/metrics'))).text();
    assert.match(metrics, new RegExp(`^gwmo_gateway_lwm2m_alert_records_total\\{gateway="[^"]+"\\} ${after.queued}$`, 'm'));
    const status = gatewayStatus(gw.gateway);
    assert.deepEqual(status.lwm2mAlerts, { queued: after.queued, waiting: 0, dropped: 0, rateDropped: 0 });
    assert.match(
      renderGatewayStatus(status),
      new RegExp(`<dd id="lwm2m-alerts">${after.queued} queued, 0 waiting, 0 dropped \\(batch full\\)`),
    );
    assert.match(metrics, /^gwmo_gateway_lwm2m_alert_records_dropped_total\{gateway="[^"]+"\} 0$/m);
  } finally {
    p.proxy.release();
    await dev.stop();
    await gw.close();
    await srv.close();
    p.close();
  }
});
