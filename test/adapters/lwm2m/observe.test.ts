// Observe (RFC 7641) through the gateway's LwM2M server, Write-Attributes before it, cancel, and
// LwM2M 1.1 Send (POST /dp) from a device.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';

import { ContentFormat } from '../../../src/adapters/lwm2m/model.ts';
import { type CoapAnswer, Lwm2mServer, type Registration } from '../../../src/adapters/lwm2m/server.ts';
import { Lwm2mDevice } from '../../../src/sim/lwm2m-device.ts';

const signal = (): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(5_000) });

async function pair(t: { after(fn: () => Promise<void>): void }) {
  const srv = new Lwm2mServer({ port: 0, timeoutMs: 5_000 });
  const { host, port } = await srv.listen();
  t.after(() => srv.close());
  const dev = new Lwm2mDevice({ endpoint: 'obs', server: `coap://${host}:${port}` });
  const registered = once(srv, 'registered', signal());
  await dev.start();
  await registered;
  t.after(() => dev.stop());
  return { srv, dev };
}

test('an observed resource notifies each change until the observation is cancelled', async (t) => {
  const { srv, dev } = await pair(t);
  const temp = { objectId: 3303, instanceId: 0, resourceId: 5700 };
  assert.equal((await srv.writeAttributes('obs', temp, { pmin: 1, pmax: 60, st: 0.5 })).code, '2.04');
  assert.deepEqual(dev.attributes.get('/3303/0/5700'), { pmin: '1', pmax: '60', st: '0.5' });
  const seen: string[] = [];
  let next: (a: CoapAnswer) => void = () => {};
  const { first, cancel } = await srv.observe(
    'obs',
    temp,
    (a) => {
      seen.push(Buffer.from(a.payload).toString());
      next(a);
    },
    ContentFormat.Text,
  );
  assert.deepEqual([first.code, Buffer.from(first.payload).toString()], ['2.05', '21.5']);
  assert.deepEqual(dev.observed, ['/3303/0/5700']);
  const notified = new Promise<CoapAnswer>((resolve) => (next = resolve));
  dev.set(3303, 0, 5700, 23.25);
  const n = await Promise.race([
    notified,
    new Promise<never>((_, reject) => setTimeout(reject, 5_000, new Error('no notification')).unref()),
  ]);
  assert.deepEqual([n.format, Buffer.from(n.payload).toString()], [ContentFormat.Text, '23.25']);
  dev.set(3303, 0, 5701, 'Far'); // another resource: no notification for this observation
  const unobserved = once(dev.events, 'unobserved', signal());
  cancel();
  // the deregistration (GET with Observe 1) reaches the device
  await unobserved;
  assert.deepEqual(seen, ['23.25']);
});

test('a Send (POST /dp) from a registered device is taken (2.04) and reported; from a stranger it is 4.03', async (t) => {
  const { srv, dev } = await pair(t);
  const sent = once(srv, 'send', signal()) as Promise<[Registration, CoapAnswer]>;
  assert.equal(await dev.sendValues([{ objectId: 3303, instanceId: 0, resourceId: 5700 }]), '2.04');
  const [reg, a] = await sent;
  assert.equal(reg.endpoint, 'obs');
  assert.equal(a.format, ContentFormat.SenmlJson);
  const records = JSON.parse(Buffer.from(a.payload).toString()) as { n: string; v?: number }[];
  assert.deepEqual(
    records.map((r) => [r.n, r.v]),
    [['/3303/0/5700', 21.5]],
  );
  const stranger = new Lwm2mDevice({ endpoint: 'stranger', server: dev.options.server! });
  // registered, then de-registered: its Send is refused
  await stranger.start();
  await stranger.deregister();
  assert.equal(await stranger.sendValues([{ objectId: 3, instanceId: 0, resourceId: 0 }]), '4.03');
  await stranger.stop();
});
