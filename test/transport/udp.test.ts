import assert from 'node:assert/strict';
import { test } from 'node:test';

import { NotificationListener, sendNotification } from '../../src/transport/index.ts';

test('a Package#0 datagram arrives whole; empty and garbage datagrams do not stop the listener', async () => {
  const got: Uint8Array[] = [];
  let arrived: () => void = () => {};
  const errors: unknown[] = [];
  const listener = new NotificationListener({
    onNotification: (bytes) => {
      if (bytes[0] === 0xee) throw new Error('the role refused it');
      got.push(bytes);
      arrived();
    },
    onError: (e) => errors.push(e),
  });
  const { host, port } = await listener.listen();
  try {
    const wait = new Promise<void>((resolve, reject) => {
      arrived = resolve;
      setTimeout(() => reject(new Error('no datagram within 5 s')), 5000).unref();
    });
    await sendNotification(new Uint8Array(0), host, port);
    await sendNotification(Uint8Array.of(0xee, 1), host, port);
    const pkg0 = Buffer.from('c91dbda105582e0e4c890d106788ec1a02d0000000123412636f6d2e6d676d747372762e6d616e616765', 'hex');
    await sendNotification(pkg0, host, port);
    await wait;
    assert.deepEqual(Buffer.from(got[0]!), pkg0);
    assert.equal(errors.length, 1);
  } finally {
    await listener.close();
  }
});

test('notifications go out through one shared socket (one source port), not a socket per datagram', async () => {
  const { createSocket } = await import('node:dgram');
  const receiver = createSocket('udp4');
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  const ports: number[] = [];
  const three = new Promise<void>((resolve) =>
    receiver.on('message', (_m, from) => {
      ports.push(from.port);
      if (ports.length === 3) resolve();
    }),
  );
  try {
    for (let i = 0; i < 3; i++) await sendNotification(Uint8Array.of(i), '127.0.0.1', receiver.address().port);
    await three;
    assert.equal(new Set(ports).size, 1, `source ports ${ports.join(', ')}`);
  } finally {
    receiver.close();
  }
});
