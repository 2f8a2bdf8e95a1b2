// npm run bench -- images: 100 devices behind one gateway install one staged 20 MB image. Measures
// how many copies crossed the WAN (server egress / image size) and the gateway's serving throughput
// next to a bare node:http static file server serving the same file to the same 100 clients; then
// the same devices take it again as a campaign (a 1% canary, then 3 waves): its time from start to done.
// `npm run bench -- images <devices> <MB>`.
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';

import { RIG_GATEWAY, startRig } from './support/rig.ts';

const DEVICES = 100;
const MB = 20;

export async function main(args: string[]): Promise<void> {
  const devices = Number(args[0] ?? DEVICES);
  const size = Number(args[1] ?? MB) * 1024 * 1024;
  const rig = await startRig({ images: true, config: { 'Fanout/MaxConcurrency': String(devices), 'Fanout/DeviceTimeout': '300' } });
  const { server, gateway, alertOf } = rig;
  const fleet: ChildProcess = fork(new URL('./support/fleet.ts', import.meta.url), [gateway.lanUrl, String(devices)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const statics = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    createReadStream(path).pipe(res);
  });
  let path = '';
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: fleet.stdout! }).on('line', (l) => l.startsWith('ready') && resolve());
      fleet.once('exit', (code) => reject(new Error(`the fleet exited with ${code}`)));
    });
    const image = await server.images!.add(
      Readable.from([randomBytes(size)]),
      { name: 'fw', version: '3', contentType: 'application/octet-stream' },
      size,
      Date.now(),
    );
    path = join(rig.dir, 'server-images', image.sha256);
    console.log(`image ${image.id.slice(0, 12)}… ${(statSync(path).size / 1024 / 1024).toFixed(0)} MB; ${devices} devices registered`);
    const ready = alertOf('imageready');
    await server.gateways.stageImage(RIG_GATEWAY, { image: image.id, name: 'fw3' }, 10_000);
    const staged = await ready;
    if (staged.items[0]?.mark !== 'informational') throw new Error(`staging failed: ${String(staged.items[0]?.data)}`);

    rig.groupAll(Array.from({ length: devices }, (_, i) => `IMEI:${String(i).padStart(15, '0')}`));
    const done = alertOf('resultaggregation');
    const served0 = gateway.images.served.bytes;
    const t0 = performance.now();
    await server.distributions.start(RIG_GATEWAY, { image: 'fw3', groups: ['all'], object: 'fumo', timeout: 300 }, 10_000);
    const agg = await done;
    const seconds = (performance.now() - t0) / 1000;
    if (!String(agg.items[0]?.data).includes(`<Status code="200" count="${devices}"/>`))
      throw new Error(`not every device installed: ${String(agg.items[0]?.data).slice(0, 200)}`);
    const gwRate = (gateway.images.served.bytes - served0) / seconds;
    console.log(`gateway: ${devices} devices installed in ${seconds.toFixed(2)} s (${(gwRate / 1024 / 1024).toFixed(0)} MB/s served)`);

    await new Promise<void>((resolve) => statics.listen(0, '127.0.0.1', resolve));
    const staticUrl = `http://127.0.0.1:${(statics.address() as AddressInfo).port}/fw`;
    const base = await new Promise<{ seconds: number; bytes: number }>((resolve) => {
      fleet.once('message', (m) => resolve(m as { seconds: number; bytes: number }));
      fleet.send({ download: staticUrl, concurrent: devices });
    });
    const staticRate = base.bytes / base.seconds;
    console.log(`bare static server: ${devices} downloads in ${base.seconds.toFixed(2)} s (${(staticRate / 1024 / 1024).toFixed(0)} MB/s)`);
    console.log(`RESULT image_serve_vs_static ${(gwRate / staticRate).toFixed(3)}`);

    // the same devices again as a campaign: a 1% canary, then 3 waves, in batches of the fanout's concurrency
    const c0 = performance.now();
    const end = new Promise<string>((resolve) => {
      const on = async (id: string) => {
        const c = await server.campaigns.get(id).catch(() => undefined);
        if (id !== 'bench' || !c || ['scheduled', 'running'].includes(c.state)) return;
        server.campaigns.events.off('change', on);
        resolve(`${c.state}${c.reason ? `: ${c.reason}` : ''}`);
      };
      server.campaigns.events.on('change', on);
    });
    await server.campaigns.create({
      name: 'bench',
      gateway: RIG_GATEWAY,
      image: 'fw3',
      groups: ['all'],
      object: 'fumo',
      canary: { share: 0.01 },
      waves: 3,
      perGatewayConcurrency: devices,
      timeout: 300,
    });
    const outcome = await end;
    if (outcome !== 'done') throw new Error(`the campaign ended ${outcome}`);
    const cs = (performance.now() - c0) / 1000;
    console.log(`campaign: ${devices} devices (canary, 3 waves) in ${cs.toFixed(2)} s`);
    console.log(`RESULT campaign_${devices >= 10_000 ? '10k' : devices}_s ${cs.toFixed(2)}`);
    console.log(`RESULT image_egress_copies ${(server.images!.served.bytes / size).toFixed(2)}`);
  } finally {
    fleet.kill('SIGINT');
    statics.close();
    await rig.close();
  }
}
