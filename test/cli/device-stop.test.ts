// `gwmo device` stops cleanly on SIGTERM from the moment it starts, also while its first session
// (or LwM2M registration) still waits for a peer that never answers.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';

import { GwmoProcess } from '../support/process.ts';

async function stoppedBySigterm(device: GwmoProcess): Promise<void> {
  const started = Date.now();
  assert.equal(await device.stop(), 0, `exit code after SIGTERM; stderr: ${device.stderr}`);
  assert.match(device.stderr, /gwmo: SIGTERM, stopping/);
  assert.ok(Date.now() - started < 5_000, 'stopped before the forced exit of the grace period');
  assert.equal(device.lines.filter((l) => l.event === 'session.end').length, 0, 'no session had ended');
}

test('a DM device whose server accepts the connection but never answers stops cleanly on SIGTERM before its first session', async () => {
  const held: Socket[] = [];
  const silent = createServer((s) => held.push(s)); // takes the request, never answers
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  const connected = new Promise<void>((resolve) => silent.once('connection', () => resolve()));
  const device = new GwmoProcess(['device', '--password', 'pw', '--server-url', `http://127.0.0.1:${port}/dm`, '--tree', ':memory:']);
  try {
    await device.waitFor((l) => l.event === 'device.started');
    await connected; // the first session is under way
    await stoppedBySigterm(device);
  } finally {
    await device.stop();
    for (const s of held) s.destroy();
    silent.close();
  }
});

test('an LwM2M device whose gateway never answers stops cleanly on SIGTERM while registering', async () => {
  const silent = createSocket('udp4');
  const registering = new Promise<void>((resolve) => silent.once('message', () => resolve()));
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  const device = new GwmoProcess([
    'device',
    '--protocol',
    'lwm2m',
    '--device-id',
    'quiet-1',
    '--server-url',
    `coap://127.0.0.1:${silent.address().port}`,
  ]);
  try {
    await registering; // its Register request arrived, and gets no answer
    await stoppedBySigterm(device);
  } finally {
    await device.stop();
    silent.close();
  }
});
