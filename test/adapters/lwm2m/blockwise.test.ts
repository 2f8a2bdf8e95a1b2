// Block-wise transfer (RFC 7959) between the gateway's LwM2M server and a device, refusals made
// before anything is sent, and an exchange given up on that stops being retransmitted.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';

import coap from 'coap';

import { Lwm2mDriver } from '../../../src/adapters/lwm2m/driver.ts';
import { Lwm2mServer } from '../../../src/adapters/lwm2m/server.ts';
import { Lwm2mDevice } from '../../../src/sim/lwm2m-device.ts';

const ctx = { key: 't', timeoutMs: 10_000, retries: 0, cancelled: () => false };

async function pair(
  t: { after(fn: () => Promise<void>): void },
  device: Partial<ConstructorParameters<typeof Lwm2mDevice>[0]> = {},
  server: ConstructorParameters<typeof Lwm2mServer>[0] = {},
) {
  const srv = new Lwm2mServer({ port: 0, timeoutMs: 10_000, ...server });
  const { host, port } = await srv.listen();
  t.after(() => srv.close());
  const dev = new Lwm2mDevice({
    endpoint: 'blk',
    server: `coap://${host}:${port}`,
    manufacturer: 'Acme',
    model: 'B',
    firmware: '1',
    ...device,
  });
  const registered = once(srv, 'registered');
  await dev.start();
  await registered;
  t.after(() => dev.stop());
  return { srv, dev, driver: new Lwm2mDriver(srv) };
}

test('a 3 KB write leaves the gateway in 1 KB blocks (Block1) and arrives whole', async (t) => {
  const { dev, driver } = await pair(t);
  const big = 'x'.repeat(3000);
  const [r] = await driver.execute('blk', [{ kind: 'Replace', target: './3303/0/5750', data: big }], ctx);
  assert.deepEqual(r, { status: 200 });
  assert.equal(dev.objects.get(3303)!.get(0)!.get(5750), big);
  assert.equal(dev.largestBlockIn, 1024);
});

test('a device with 32-byte blocks registers block-wise; writes go to it in 32-byte blocks and a large read comes back whole (Block2)', async (t) => {
  const { srv, dev, driver } = await pair(t, { blockSize: 32 });
  assert.equal(srv.registration('blk')!.blockSize, 32, 'learnt from the Block1 of its Register');
  assert.ok(srv.registration('blk')!.links.length >= 5, 'the Register payload arrived whole');
  const note = 'n'.repeat(600);
  const [w] = await driver.execute('blk', [{ kind: 'Replace', target: './3303/0/5750', data: note }], ctx);
  assert.deepEqual(w, { status: 200 });
  assert.equal(dev.objects.get(3303)!.get(0)!.get(5750), note);
  assert.equal(dev.largestBlockIn, 32);
  const [r] = await driver.execute('blk', [{ kind: 'Get', target: './3303/0' }], ctx);
  assert.equal(r!.status, 200);
  const values = JSON.parse(String(r!.data)) as { n?: string; vs?: string }[];
  assert.ok(String(r!.data).length > 600);
  assert.ok(
    values.some((v) => v.vs === note),
    'the 600-byte value came back in the read',
  );
});

test('a write above the payload limit is 413 with its reason at once, and nothing reaches the device', async (t) => {
  const { dev, driver } = await pair(t, {}, { maxPayload: 2048 });
  const before = dev.objects.get(3303)!.get(0)!.get(5750);
  const started = Date.now();
  const [r] = await driver.execute('blk', [{ kind: 'Replace', target: './3303/0/5750', data: 'y'.repeat(4096) }], { ...ctx, retries: 3 });
  assert.equal(r!.status, 413);
  assert.match(String(r!.data), /more than the 2048 a request may carry/);
  // a guard: refused before anything is sent takes milliseconds; the request's timeout here is 10 s
  assert.ok(Date.now() - started < 5000, 'answered without waiting for a timeout');
  assert.equal(dev.objects.get(3303)!.get(0)!.get(5750), before);
  assert.equal(dev.largestBlockIn, 0);
});

test('a request the gateway gave up on is no longer retransmitted to the silent device', async (t) => {
  const timing = { ...coap.parameters };
  coap.updateTiming({ ackTimeout: 0.05, ackRandomFactor: 1, maxRetransmit: 4 }); // retransmissions after 50, 100, 200, 400 ms
  t.after(() => coap.updateTiming(timing));
  const { srv, dev } = await pair(t, {}, { timeoutMs: 30 });
  const [host, port] = dev.address.split(':') as [string, string];
  await dev.stop();
  const silent = createSocket('udp4'); // takes the device's port and never answers
  await new Promise<void>((resolve) => silent.bind(Number(port), host, resolve));
  t.after(() => new Promise<void>((resolve) => silent.close(() => resolve())));
  let heard = 0;
  silent.on('message', () => heard++);
  await assert.rejects(srv.request('blk', 'GET', { objectId: 3, instanceId: 0, resourceId: 0 }), { code: 'COAP_TIMEOUT' });
  const atGiveUp = heard;
  // without the abort the agent sends 4 more copies within 750 ms; wait for a fifth packet that must not come
  const more = await Promise.race([
    once(silent, 'message').then(() => true),
    new Promise<boolean>((resolve) => setTimeout(resolve, 1000, false)),
  ]);
  assert.equal(more, false, `retransmitted after the give-up (had ${atGiveUp}, then more)`);
  assert.ok(atGiveUp >= 1, 'the request was sent once');
});

test('one unauthenticated packet claiming the last block of a 1 GiB Register is refused before anything is allocated for it', async (t) => {
  const srv = new Lwm2mServer({ port: 0 });
  const { host, port } = await srv.listen();
  t.after(() => srv.close());
  const peer = createSocket('udp4');
  t.after(() => new Promise<void>((resolve) => peer.close(() => resolve())));
  const num = 0xfffff; // 2^20 - 1 blocks of 1024 bytes in
  const packet = Buffer.from([
    0x41,
    0x02,
    0x00,
    0x07,
    0x01, // CoAP 1, CON, token length 1; POST; message id 7; token 01
    0xb2,
    ...Buffer.from('rd'), // Uri-Path (11) "rd"
    0x44,
    ...Buffer.from('ep=x'), // Uri-Query (15) "ep=x"
    0xc3,
    (num >> 12) & 0xff,
    (num >> 4) & 0xff,
    ((num & 0xf) << 4) | 6, // Block1 (27): NUM 2^20-1, M 0, SZX 6
    0xff,
    0x78, // payload "x"
  ]);
  const answer = once(peer, 'message', { signal: AbortSignal.timeout(5_000) });
  peer.send(packet, port, host);
  const [reply] = (await answer) as [Buffer];
  assert.equal(reply[1], 0xa0, 'code 5.00');
  assert.match(reply.toString('latin1'), /Request Entity Too Large: more than 1048576 bytes/);
  assert.equal(srv.registrations().length, 0);
});
