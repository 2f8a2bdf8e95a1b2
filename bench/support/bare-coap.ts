// The bare CoAP loop `npm run bench -- lwm2m` compares the gateway's fanout with: the same Read
// /3/0/0 and Write /3303/0/5750 to each device, straight from one CoAP socket, `concurrency` devices
// at a time, no gateway, no DM.
import { createSocket } from 'node:dgram';

import coap from 'coap';

function request(agent: coap.Agent, address: string, method: 'GET' | 'PUT', pathname: string, payload?: string): Promise<string> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = coap.request({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)), method, pathname, agent });
    if (payload !== undefined) req.setOption('Content-Format', 'text/plain');
    req.on('response', (res: coap.IncomingMessage) => {
      res.resume();
      resolve(res.code);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Seconds for every device to answer both requests; throws on any answer but 2.05 and 2.04. */
export async function bareLoop(addresses: readonly string[], concurrency: number): Promise<number> {
  // the socket the gateway's LwM2M server has (src/adapters/lwm2m/server.ts): the same buffers
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const agent = new coap.Agent({ socket });
  let next = 0;
  const t0 = performance.now();
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, addresses.length) }, async () => {
        while (next < addresses.length) {
          const address = addresses[next++]!;
          const read = await request(agent, address, 'GET', '/3/0/0');
          const write = await request(agent, address, 'PUT', '/3303/0/5750', 'bench');
          if (read !== '2.05' || write !== '2.04') throw new Error(`bare CoAP: ${address} answered ${read}, ${write}`);
        }
      }),
    );
    return (performance.now() - t0) / 1000;
  } finally {
    agent.close();
    socket.close();
  }
}
