// Watchers of one fanout share one poll loop (src/server/fanout-poller.ts), over real HTTP with a
// real gateway: the gateway sees one stream of Gets however many watch, each watcher gets the same
// events, and the polling stops with the last watcher.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';

import { fanoutEventRoutes } from '../../src/api/fanout-events.ts';
import { FanoutPollers, type PollEvent } from '../../src/server/fanout-poller.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';
import { events, nextEvent, type Sse } from '../support/sse.ts';

const gid = encodeURIComponent(GW_ID);

/** a server, a gateway with `n` devices of which the last is stopped (so a job waits out its timeout), and the events route alone on a listener of its own */
async function rig(n: number, pollMs: number) {
  const srv = await startServer();
  const gw = await startGateway(srv.url);
  const devices = await startDevices(gw.gateway.lanUrl, n);
  await gw.gateway.checkIn();
  await devices[n - 1]!.stop();
  const pollers = new FanoutPollers(srv.server.gateways, { pollMs });
  const [route] = fanoutEventRoutes(srv.server.gateways, { pollers });
  const http = createServer(
    (req, res) => void route![2](req, res, route![1].exec(req.url!)!.slice(1).map(decodeURIComponent), new URL(req.url!, 'http://x')),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const api = srv.url.replace(/\/dm$/, '/api');
  return {
    srv,
    pollers,
    eventsUrl: (name: string) => `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/gateways/${gid}/fanouts/${name}/events`,
    async start(name: string, timeout: number): Promise<void> {
      const res = await fetch(`${api}/gateways/${gid}/fanouts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name,
          devices: devices.map((_, i) => `IMEI:${String(i).padStart(15, '0')}`),
          timeout,
          retries: 0,
          commands: [{ kind: 'Get', path: './DevInfo/Mod' }],
        }),
      });
      assert.equal(res.status, 202);
    },
    /** the DM Gets the server queued for the gateway to read the job */
    // awaited: the server store's reads may be asynchronous (PostgreSQL)
    gets: async (name: string) =>
      (await srv.store.listOperations(GW_ID, { limit: 100_000 })).filter(
        (op) => op.kind === 'Get' && op.target === `./GwMO/Fanout/${name}?list=StructData`,
      ),
    async close() {
      http.closeAllConnections();
      http.close();
      for (const d of devices) await d.stop();
      await gw.close();
      await srv.close();
    },
  };
}

test('two watchers of one fanout share one poll loop: one Get per read, the same events for both, and the final done', async () => {
  const r = await rig(2, 100);
  try {
    await r.start('shared', 2);
    let started = 0;
    r.pollers.on('started', () => started++);
    const stopped = nextEvent<PollEvent>(r.pollers, 'stopped', (e) => e.name === 'shared', 30_000);
    const watch = async (): Promise<Sse[]> => {
      const res = await fetch(r.eventsUrl('shared'), { signal: AbortSignal.timeout(30_000) });
      assert.equal(res.status, 200);
      const seen: Sse[] = [];
      for await (const e of events(res)) if (e !== 'heartbeat') seen.push(e);
      return seen;
    };
    const [a, b] = await Promise.all([watch(), watch()]);
    const end = await stopped;
    assert.equal(started, 1, 'one loop for both watchers');
    // a watcher that joins once the loop has read starts from the latest read: B's events are A's from there on
    const strip = (e: Sse[]) => e.map(({ event, data }) => ({ event, data }));
    assert.ok(b.length >= 1 && b.length <= a.length);
    assert.deepEqual(strip(b), strip(a).slice(a.length - b.length), 'both watchers got the same events, and the same final done');
    assert.ok(a.length >= 2, `${a.length} events: the job was seen running, then done`);
    assert.deepEqual(
      a.map((e) => e.event),
      [...a.slice(1).map(() => 'progress'), 'done'],
    );
    const last = JSON.parse(a[a.length - 1]!.data) as { State: string; Progress: Record<string, string> };
    assert.deepEqual([last.State, last.Progress['Succeeded'], last.Progress['Failed']], ['30', '1', '1']);
    // what the gateway saw: as many Gets as the one loop made reads, never two at once
    const gets = (await r.gets('shared')).sort((x, y) => x.createdAt - y.createdAt);
    assert.ok(end.reads >= 3, `${end.reads} reads while the job ran`);
    assert.equal(gets.length, end.reads, 'one Get per read of the shared loop');
    for (let i = 1; i < gets.length; i++)
      assert.ok(gets[i]!.createdAt >= gets[i - 1]!.updatedAt, `Get ${i + 1} was queued while Get ${i} was outstanding`);
    assert.equal(r.pollers.watching(GW_ID, 'shared'), 0);
  } finally {
    await r.close();
  }
});

test('a watcher that leaves stops its share; when the last one leaves the polling stops, though the job runs on', async () => {
  const r = await rig(1, 100);
  try {
    await r.start('long', 60);
    const open = async (signal: AbortSignal): Promise<Sse> => {
      const res = await fetch(r.eventsUrl('long'), { signal });
      assert.equal(res.status, 200);
      const first = await events(res).next();
      return first.value as Sse;
    };
    const ca = new AbortController();
    const cb = new AbortController();
    const [fa, fb] = await Promise.all([open(ca.signal), open(cb.signal)]);
    assert.deepEqual(fa, fb);
    assert.equal(fa.event, 'progress');
    assert.equal(r.pollers.watching(GW_ID, 'long'), 2);

    const left = nextEvent<PollEvent>(r.pollers, 'left', (e) => e.name === 'long', 10_000);
    ca.abort();
    assert.equal((await left).watchers, 1, 'one watcher left, one stays');
    // the loop goes on for the one still watching
    const before = (await nextEvent<PollEvent>(r.pollers, 'read', (e) => e.name === 'long', 10_000)).reads;
    assert.ok((await nextEvent<PollEvent>(r.pollers, 'read', (e) => e.name === 'long', 10_000)).reads > before);

    const stopped = nextEvent<PollEvent>(r.pollers, 'stopped', (e) => e.name === 'long', 10_000);
    cb.abort();
    const end = await stopped;
    assert.equal(end.watchers, 0);
    assert.equal(r.pollers.watching(GW_ID, 'long'), 0);
    const gets = await r.gets('long');
    assert.equal(gets.length, end.reads, 'no Get after the loop stopped');
    assert.deepEqual(
      gets.filter((op) => op.state === 'queued' || op.state === 'sent'),
      [],
      'nothing left queued for the gateway',
    );
    // the job itself was not touched: still running on the gateway
    const job = await r.srv.server.gateways.fanout(GW_ID, 'long', 10_000);
    assert.equal(job.value?.['State'], '20');
  } finally {
    await r.close();
  }
});
