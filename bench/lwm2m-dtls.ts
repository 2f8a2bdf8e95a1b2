// npm run bench -- lwm2m-dtls [--devices 10000] [--concurrency 1000] [--handshakes 3000]
// LwM2M over DTLS beside plain CoAP, in one run: full PSK handshakes per second against the DTLS
// server (our client, HelloVerifyRequest included, concurrency 32, client and server in this one
// process); then the gateway's fanout (Read /3/0/0 + Write, as `bench -- lwm2m`) to a fleet over
// plain CoAP and to a fleet of the same size over DTLS (associations established at registration).
import { parseArgs } from 'node:util';

import { connectDtls, createDtlsServer } from '../src/transport/dtls/index.ts';
import { fanout, until } from './lwm2m.ts';
import { benchKey, type Shard, startShards, stopShards } from './support/lwm2m-shards.ts';
import { startRig } from './support/rig.ts';

type Rig = Awaited<ReturnType<typeof startRig>>;

async function handshakesPerSecond(total: number, concurrency: number): Promise<number> {
  const key = benchKey('hs');
  const server = createDtlsServer({ port: 0, psk: () => key });
  const { host, port } = await server.listen();
  try {
    let started = 0;
    const t0 = performance.now();
    const worker = async (): Promise<void> => {
      while (started < total) {
        started++;
        const c = await connectDtls({ host, port, psk: { identity: 'hs', key } });
        c.close();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const rate = total / ((performance.now() - t0) / 1000);
    const s = server.stats();
    if (s.fullHandshakes !== total) throw new Error(`${s.fullHandshakes} of ${total} handshakes completed`);
    console.log(`${total} full PSK handshakes (cookie exchange included), concurrency ${concurrency}: ${rate.toFixed(0)}/s`);
    return rate;
  } finally {
    await server.close();
  }
}

/** Starts `count` devices lw<first>… at `server`, runs the fanout to them, stops them; seconds. */
async function fleetFanout(rig: Rig, server: string, first: number, count: number, name: string): Promise<number> {
  let attached = 0;
  const on = (): void => void attached++;
  rig.gateway.events.on('attached', on);
  const shards: Shard[] = [];
  try {
    const registered = until(() => attached >= count, 60_000 + count * (server.startsWith('coaps:') ? 100 : 20), 'registrations');
    rig.gateway.events.on('attached', registered.wake);
    const t0 = performance.now();
    shards.push(...(await startShards(server, first, count)));
    await registered.promise;
    rig.gateway.events.off('attached', registered.wake);
    console.log(`${count} devices registered over ${server.split(':')[0]} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    rig.groupAll(Array.from({ length: count }, (_, i) => `lw${first + i}`));
    return await fanout(rig, name, count);
  } finally {
    rig.gateway.events.off('attached', on);
    stopShards(shards);
  }
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      devices: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '1000' },
      handshakes: { type: 'string', default: '3000' },
    },
  });
  const count = Number(values.devices);
  const concurrency = Number(values.concurrency);
  const handshakes = Number(values.handshakes);
  for (const [k, v] of Object.entries({ count, concurrency, handshakes }))
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${k} must be a whole number > 0, not ${v}`);
  const rate = await handshakesPerSecond(handshakes, 32);
  // every device its own PSK, identity = endpoint name, held as the DM server's provisioning holds them
  const credentials = Array.from({ length: count }, (_, i) => {
    const endpoint = `lw${1_000_000 + i}`;
    return { identity: endpoint, endpoint, key: benchKey(endpoint).toString('hex') };
  });
  const rig = await startRig({
    lwm2m: true,
    lwm2mDtls: credentials,
    config: { 'Fanout/MaxConcurrency': String(concurrency), DetachTimeout: '3600' },
  });
  try {
    const plain = await fleetFanout(rig, `coap://${rig.gateway.lwm2mAddress}`, 0, count, 'plain');
    const dtls = await fleetFanout(rig, `coaps://${rig.gateway.lwm2mSecureAddress}`, 1_000_000, count, 'dtls');
    console.log(`fanout to ${count} devices: plain CoAP ${plain.toFixed(2)} s, DTLS ${dtls.toFixed(2)} s`);
    console.log(`RESULT dtls_handshakes_per_s ${rate.toFixed(0)}`);
    console.log(`RESULT fanout_dtls_vs_plain ${(plain / dtls).toFixed(3)}`);
  } finally {
    await rig.close();
  }
}
