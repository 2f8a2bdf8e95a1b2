// The LwM2M fleet of `npm run bench -- lwm2m`: COUNT simulated LwM2M clients in one process, each
// with its own UDP endpoint, registered with the gateway at SERVER. Prints "ready <count>".
import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';

const [server, countText] = process.argv.slice(2);
const count = Number(countText);
const devices: Lwm2mDevice[] = [];
const BATCH = 200;
for (let i = 0; i < count; i += BATCH) {
  const batch = Array.from(
    { length: Math.min(BATCH, count - i) },
    (_, k) => new Lwm2mDevice({ endpoint: `lw${i + k}`, server: server!, lifetimeS: 3600 }),
  );
  await Promise.all(batch.map((d) => d.start()));
  devices.push(...batch);
  if ((i / BATCH) % 10 === 0) process.stderr.write(`lwm2m fleet: ${devices.length}/${count} registered\n`);
}
console.log(`ready ${count}`);
process.on('SIGINT', () => process.exit(0));
