// The LwM2M server's own life cycle: stopping it while a request to a device is unanswered.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';

import { Lwm2mServer } from '../../../src/adapters/lwm2m/server.ts';
import { Lwm2mDevice } from '../../../src/sim/lwm2m-device.ts';

test('closing the server ends a request still waiting for a silent device at once (no retransmission on the closed socket)', async () => {
  const server = new Lwm2mServer({ timeoutMs: 60_000 });
  const { host, port } = await server.listen();
  const device = new Lwm2mDevice({ endpoint: 'quiet', server: `coap://${host}:${port}`, manufacturer: 'Acme', model: 'Q', firmware: '1' });
  const registered = once(server, 'registered');
  await device.start();
  await registered;
  await device.stop(); // gone without de-registering: the server still believes in it
  const asked = server.request('quiet', 'GET', { objectId: 3, instanceId: 0, resourceId: 0 });
  const outcome = asked.then(
    () => 'answered',
    (err: Error) => err.message,
  );
  const deadline = new Promise<string>((resolve) => setTimeout(resolve, 5_000, 'still waiting 5 s after close').unref());
  await server.close();
  assert.equal(await Promise.race([outcome, deadline]), 'the LwM2M server stopped');
});

test('a simulated device stopped while its registration is unanswered ends it at once', async () => {
  const silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  const device = new Lwm2mDevice({
    endpoint: 'early',
    server: `coap://127.0.0.1:${(silent.address() as AddressInfo).port}`,
    manufacturer: 'Acme',
    model: 'E',
    firmware: '1',
  });
  try {
    const starting = device.start().then(
      () => 'registered',
      (err: Error) => err.message,
    );
    await once(silent, 'message'); // the Register arrived and will never be answered
    await device.stop();
    const deadline = new Promise<string>((resolve) => setTimeout(resolve, 5_000, 'still registering 5 s after stop').unref());
    assert.equal(await Promise.race([starting, deadline]), 'early stopped');
  } finally {
    silent.close();
  }
});
