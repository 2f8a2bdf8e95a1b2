// npm run bench -- images: 100 devices behind one gateway install one staged 20 MB image. Measures
// how many copies crossed the WAN (server egress / image size) and the gateway's serving throughput
// next to a bare node:http static file server serving the same file to the same 100 clients; then
// the same devices take it again as a campaign (a 1% canary, then 3 waves): its time from start to done.
// `npm run bench -- images <devices> <MB>`; `-- images --campaign 10000 --mb 8`: the campaign goes to
// 10,000 devices instead, half simulated DM devices (FUMO), half LwM2M devices (object 5, the fleet
// of the lwm2m bench), in batches of --concurrency (default 1000).
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

import type { DistributionDeviceRow } from '../src/store/server.ts';
import { until } from './lwm2m.ts';
import { type Shard, startShards, stopShards } from './support/lwm2m-shards.ts';
import { RIG_GATEWAY, startRig } from './support/rig.ts';

const DEVICES = 100;
const MB = 20;

const label = (n: number): string => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));
const dmId = (i: number): string => `IMEI:${String(i).padStart(15, '0')}`;

export async function main(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      campaign: { type: 'string' },
      mb: { type: 'string' },
      concurrency: { type: 'string', default: '1000' },
      timeout: { type: 'string', default: '600' },
    },
  });
  const devices = Number(positionals[0] ?? DEVICES);
  const size = Number(values.mb ?? positionals[1] ?? MB) * 1024 * 1024;
  // the campaign's fleet: the distribution's DM devices, or --campaign N mixed devices (N/2 DM, the rest LwM2M)
  const mixed = values.campaign !== undefined ? Number(values.campaign) : undefined;
  const concurrency = mixed !== undefined ? Number(values.concurrency) : devices;
  // seconds each device of the campaign has
  const timeout = Number(values.timeout);
  for (const [k, v] of Object.entries({ devices, size, mixed: mixed ?? 2, concurrency, timeout }))
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k} must be a whole number ≥ 1, not ${v}`);
  const dmCount = mixed !== undefined ? Math.ceil(mixed / 2) : devices;
  const lwCount = mixed !== undefined ? mixed - dmCount : 0;
  const rig = await startRig({
    images: true,
    lwm2m: lwCount > 0,
    config: {
      'Fanout/MaxConcurrency': String(Math.max(devices, concurrency)),
      'Fanout/DeviceTimeout': '600',
      DetachTimeout: '3600',
    },
  });
  const { server, gateway, alertOf } = rig;
  const fleet: ChildProcess = fork(new URL('./support/fleet.ts', import.meta.url), [gateway.lanUrl, String(Math.max(devices, dmCount))], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const statics = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    createReadStream(path).pipe(res);
  });
  let path = '';
  const shards: Shard[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: fleet.stdout! }).on('line', (l) => l.startsWith('ready') && resolve());
      fleet.once('exit', (code) => reject(new Error(`the fleet exited with ${code}`)));
    });
    if (lwCount > 0) {
      let attached = 0;
      const registered = until(() => attached >= lwCount, 60_000 + lwCount * 10, 'LwM2M registrations');
      gateway.events.on('attached', (id: string) => {
        if (id.startsWith('lw')) attached++;
        registered.wake();
      });
      shards.push(...(await startShards(`coap://${gateway.lwm2mAddress}`, 0, lwCount)));
      await registered.promise;
    }
    const image = await server.images!.add(
      Readable.from([randomBytes(size)]),
      { name: 'fw', version: '3', contentType: 'application/octet-stream' },
      size,
      Date.now(),
    );
    path = join(rig.dir, 'server-images', image.sha256);
    console.log(
      `image ${image.id.slice(0, 12)}… ${(statSync(path).size / 1024 / 1024).toFixed(0)} MB; ${Math.max(devices, dmCount)} DM and ${lwCount} LwM2M devices registered`,
    );
    const ready = alertOf('imageready');
    await server.gateways.stageImage(RIG_GATEWAY, { image: image.id, name: 'fw3' }, 10_000);
    const staged = await ready;
    if (staged.items[0]?.mark !== 'informational') throw new Error(`staging failed: ${String(staged.items[0]?.data)}`);

    rig.groupAll(Array.from({ length: devices }, (_, i) => dmId(i)));
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

    // the campaign's devices, DM and LwM2M alternating so that every wave and batch has both
    const targets: string[] = [];
    for (let i = 0; i < dmCount; i++) targets.push(dmId(i), ...(i < lwCount ? [`lw${i}`] : []));
    rig.groupAll(targets, 'fleet');
    const total = targets.length;
    const c0 = performance.now();
    const elapsed = (): string => `${((performance.now() - c0) / 1000).toFixed(1)} s`;
    // progress: devices ended (from the distributions' row changes) every tenth, and each wave's start
    const ended = new Set<string>();
    let shown = 0;
    const onRows = (_id: string, rows: readonly DistributionDeviceRow[]): void => {
      for (const r of rows) if (r.state === 'succeeded' || r.state === 'failed') ended.add(r.deviceId);
      if (ended.size - shown >= total / 10 || (ended.size === total && shown < total)) {
        shown = ended.size;
        console.log(`  campaign: ${ended.size}/${total} devices ended after ${elapsed()}`);
      }
    };
    server.distributions.events.on('change', onRows);
    const onEnd = (id: string): void => console.log(`  campaign: batch ${id} ended after ${elapsed()}`);
    server.distributions.events.on('end', onEnd);
    let wave = 0;
    console.log(`  campaign: ${total} devices, canary starts`);
    const end = new Promise<string>((resolve) => {
      const on = async (id: string) => {
        const c = await server.campaigns.get(id).catch(() => undefined);
        if (id !== 'bench' || !c) return;
        if (c.state === 'running' && c.wave !== wave && c.wave < c.waves.length) {
          wave = c.wave;
          console.log(`  campaign: ${wave === 0 ? 'canary' : `wave ${wave}`} (${c.waves[wave]!.length} devices) starts after ${elapsed()}`);
        }
        if (['scheduled', 'running'].includes(c.state)) return;
        server.campaigns.events.off('change', on);
        resolve(`${c.state}${c.reason ? `: ${c.reason}` : ''}`);
      };
      server.campaigns.events.on('change', on);
    });
    await server.campaigns.create({
      name: 'bench',
      gateway: RIG_GATEWAY,
      image: 'fw3',
      groups: ['fleet'],
      object: 'fumo',
      canary: { share: 0.01 },
      waves: 3,
      perGatewayConcurrency: concurrency,
      timeout,
    });
    const outcome = await end;
    server.distributions.events.off('change', onRows);
    server.distributions.events.off('end', onEnd);
    const cs = (performance.now() - c0) / 1000;
    const report = await server.campaigns.report('bench');
    if (outcome !== 'done') throw new Error(`the campaign ended ${outcome}; results: ${JSON.stringify(report.byResult)}`);
    console.log(`campaign results: ${JSON.stringify(report.byResult)}`);
    const by = (object: string): number => report.devices.filter((d) => d.state === 'succeeded' && d.object === object).length;
    const succeeded = report.devices.filter((d) => d.state === 'succeeded').length;
    console.log(`campaign: ${total} devices (${by('fumo')} FUMO, ${by('lwm2m')} object 5; canary, 3 waves) in ${cs.toFixed(2)} s`);
    // the time and the copies are printed even when devices failed (a 10,000-device run is too long
    // to lose to a few of them); the run still fails then
    console.log(`RESULT campaign_${label(total)}_s ${cs.toFixed(2)}`);
    console.log(`RESULT campaign_failed_devices ${total - succeeded}`);
    console.log(`RESULT image_egress_copies ${(server.images!.served.bytes / size).toFixed(2)}`);
    if (succeeded !== total) throw new Error(`${succeeded} of ${total} devices succeeded: ${JSON.stringify(report.byResult)}`);
  } finally {
    fleet.kill('SIGINT');
    stopShards(shards);
    statics.close();
    await rig.close();
  }
}
