// One shard of the fleet of `npm run bench -- lwm2m`: COUNT simulated LwM2M clients named lw<FIRST>…,
// each with its own UDP endpoint (so a shard stays under the process's file descriptor limit),
// registered with the gateway at SERVER (coap:// or coaps://, see benchKey). Prints "ready <count>" and sends its devices' addresses
// over IPC. On {notify: seconds} each device sets /3303/0/5700 to the time (ms since the epoch) once
// a second, spread over the second, then the shard answers {changed: n}.
import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { benchKey } from './lwm2m-shards.ts';

const [server, firstText, countText] = process.argv.slice(2);
const first = Number(firstText);
const count = Number(countText);
// each shard on its own loopback address: one address has 28,000 ephemeral ports (32768–60999),
// shared with whatever else runs here, and 100,000 devices are 100,000 sockets
const host = `127.0.0.${1 + Math.floor(first / 10_000)}`;
const devices: Lwm2mDevice[] = [];
// coaps://: fewer at once, each registration is a handshake first (200 at once retransmit into each other)
const BATCH = server!.startsWith('coaps:') ? 50 : 200;
for (let i = 0; i < count; i += BATCH) {
  const batch = Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => {
    const endpoint = `lw${first + i + k}`;
    // coaps://: each device its own PSK, identity = endpoint name (bench/lwm2m-dtls.ts)
    const psk = server!.startsWith('coaps:') ? { psk: { identity: endpoint, key: benchKey(endpoint) } } : {};
    return new Lwm2mDevice({ endpoint, server: server!, lifetimeS: 3600, host, ...psk });
  });
  await Promise.all(batch.map((d) => d.start()));
  devices.push(...batch);
  if ((i / BATCH) % 10 === 0) process.stderr.write(`lwm2m fleet lw${first}…: ${devices.length}/${count} registered\n`);
}
process.send?.({ addresses: devices.map((d) => d.address) });
console.log(`ready ${count}`);

// one timer for the shard, not one per device: each 20 ms tick changes the devices of its slot
const SLOTS = 50;
process.on('message', (m: { notify?: number }) => {
  if (m.notify === undefined) return;
  const ticks = m.notify * SLOTS;
  let tick = 0;
  let changed = 0;
  const timer = setInterval(() => {
    const slot = tick % SLOTS;
    for (let i = slot; i < devices.length; i += SLOTS) {
      devices[i]!.set(3303, 0, 5700, Date.now());
      changed++;
    }
    if (++tick === ticks) {
      clearInterval(timer);
      process.send?.({ changed });
    }
  }, 1000 / SLOTS);
});
process.on('SIGINT', () => process.exit(0));
// the bench that forked it was killed: its IPC channel closes, and the devices must not outlive it
process.on('disconnect', () => process.exit(0));
