// `gwmo demo` (what `npm start` runs): a DM server, two gateways and a mixed fleet in one process on
// loopback, data under ./data/demo; a second start reuses it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DmGateway } from '../../gateway/gateway.ts';
import { gatewayStatus } from '../../api/gateway-status.ts';
import { statusRoute } from '../../web/gateway-status.ts';
import { DmServer } from '../../server/dm-server.ts';
import { SessionTrace } from '../../server/trace.ts';
import { DmDevice } from '../../client/device.ts';
import { type Fleet, startFleet } from '../../sim/fleet.ts';
import { NomadicDevice } from '../../sim/nomad.ts';
import { SqliteGatewayStore } from '../../store/sqlite/gateway.ts';
import { SqliteAuthStore } from '../../store/sqlite/auth.ts';
import { SqliteServerStore } from '../../store/sqlite/server.ts';
import { DEFAULT_RETENTION, Pruner, storeSteps } from '../../server/retention.ts';
import { SqliteTreeStore } from '../../store/sqlite/tree.ts';
import { openApiAuth } from '../api-auth.ts';
import { CliError } from '../cli-error.ts';
import { prepareCampaignDemo } from './demo-campaign.ts';
import { port, positive } from '../options.ts';
import { jsonLog, onShutdown } from '../shutdown.ts';

const GATEWAYS = ['GW:DEMO-1', 'GW:DEMO-2'];

/** a value made on the first start and read back on later ones (owner-only file) */
function kept(file: string, make: () => string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

export async function runDemo(f: Record<string, string>): Promise<void> {
  const dm = positive('--dm', f['dm']!);
  const lw = positive('--lwm2m', f['lwm2m']!);
  const moveEvery = positive('--move-every', f['moveEvery']!);
  const dir = f['dataDir']!;
  mkdirSync(dir, { recursive: true });
  const log = jsonLog('demo');
  const quiet = (): void => {};
  const closers: (() => Promise<void> | void)[] = [];
  // from the start: a stop while devices are still enrolling closes what is open so far
  onShutdown(async () => {
    for (const c of closers) await c();
  }, 15_000);
  const store = new SqliteServerStore(join(dir, 'server.db'));
  closers.push(() => store.close());
  // a demo on loopback: its admin password and an API token are kept in the data dir so every start can print them
  const password = process.env['GWMO_ADMIN_PASSWORD'] ?? kept(join(dir, 'admin-password.txt'), () => randomBytes(9).toString('base64url'));
  const token =
    process.env['GWMO_ADMIN_TOKEN'] ?? kept(join(dir, 'admin-token.txt'), () => `gwmo_${randomBytes(32).toString('base64url')}`);
  const access = await openApiAuth(new SqliteAuthStore(join(dir, 'server.db')), { adminPassword: password, log: quiet });
  closers.push(() => access.close());
  await access.auth.provisionToken('admin', token, 'demo');
  const server = new DmServer({
    store,
    serverId: 'gwmo',
    host: f['host']!,
    port: port('--port', f['port']!),
    routes: access.routes,
    imageReader: access.imageReader,
    imageDir: join(dir, 'images'),
    trace: new SessionTrace(),
  });
  let url: string;
  try {
    url = await server.start();
  } catch (err) {
    await store.close();
    access.close();
    throw new CliError(
      `cannot listen on ${f['host']}:${f['port']}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (try --port 0 or another port)`,
      1,
    );
  }
  closers.unshift(() => server.stop());
  // a demo kept running for days keeps the server's default retention, as gwmo server does
  const pruner = new Pruner({ steps: storeSteps(store, () => DEFAULT_RETENTION), intervalMs: 600_000, registry: server.metrics.registry });
  pruner.start();
  closers.unshift(() => pruner.stop());
  const gateways: DmGateway[] = [];
  const fleets: Fleet[] = [];
  for (const [n, id] of GATEWAYS.entries()) {
    await server.service.ensureDevice({
      deviceId: id,
      name: `gateway-${n + 1}`,
      password: `gw-secret-${n + 1}`,
      serverName: 'gwmo',
      serverPassword: 'srv-secret',
      scheme: 'md5',
    });
    const gdir = join(dir, `gateway-${n + 1}`);
    mkdirSync(gdir, { recursive: true });
    const stores = {
      tree: new SqliteTreeStore(join(gdir, 'tree.db')),
      south: new SqliteServerStore(join(gdir, 'south.db'), { exclusive: true }),
      gateway: new SqliteGatewayStore(join(gdir, 'gateway.db'), { exclusive: true }),
    };
    const gateway = new DmGateway({
      deviceId: id,
      serverUrl: url,
      serverId: 'gwmo',
      username: `gateway-${n + 1}`,
      password: `gw-secret-${n + 1}`,
      serverPassword: 'srv-secret',
      auth: 'md5',
      encoding: 'wbxml',
      lanHost: '127.0.0.1',
      lanPort: 0,
      lanServerId: 'gwmo-gateway',
      deviceUser: 'device',
      devicePassword: 'lan-secret',
      lanServerPassword: 'lan-secret',
      notifyPort: 0,
      checkInSeconds: 60,
      lwm2mPort: 0,
      stores,
      imageDir: join(gdir, 'images'),
      log: quiet,
      lanRoutes: statusRoute(gatewayStatus),
    });
    await gateway.start();
    await gateway.checkIn();
    gateways.push(gateway);
    closers.unshift(async () => {
      await gateway.stop();
      for (const s of Object.values(stores)) s.close();
    });
    const progress =
      (kind: string) =>
      (done: number, total: number): void => {
        if (done === total || done % 100 === 0) log('demo.progress', { gateway: id, devices: kind, registered: done, of: total });
      };
    if (dm > 0) {
      fleets.push(
        await startFleet({
          protocol: 'dm',
          count: dm,
          serverUrl: gateway.lanUrl,
          serverId: 'gwmo-gateway',
          password: 'lan-secret',
          serverPassword: 'lan-secret',
          prefix: `IMEI:35000${n + 1}`,
          progress: progress('dm'),
        }),
      );
    }
    if (lw > 0) {
      fleets.push(
        await startFleet({
          protocol: 'lwm2m',
          count: lw,
          serverUrl: `coap://${gateway.lwm2mAddress}`,
          serverId: '',
          password: '',
          prefix: `demo${n + 1}-lw`,
          progress: progress('lwm2m'),
        }),
      );
    }
  }
  closers.unshift(async () => {
    for (const fl of fleets) await fl.stop();
  });
  const lanDevice = {
    serverId: 'gwmo-gateway',
    username: 'device',
    password: 'lan-secret',
    serverPassword: 'lan-secret',
    auth: 'md5',
    encoding: 'wbxml',
    manufacturer: 'gwmo',
    language: 'en',
    firmware: '1.0.0',
    notifyHost: '127.0.0.1',
    notifyPort: 0,
    checkInSeconds: 0,
  } as const;
  // transparent mode: a device behind gateway 1 with its own account at the server; the server's
  // Package#0 reaches it through the gateway's EDTrigger MO
  const tid = 'IMEI:DEMO-TRANSPARENT';
  await server.service.ensureDevice({
    deviceId: tid,
    name: 'transparent',
    password: 'transparent-secret',
    serverName: 'gwmo',
    serverPassword: 'srv-transparent-secret',
    scheme: 'md5',
  });
  const transparent = new DmDevice(
    {
      ...lanDevice,
      deviceId: tid,
      serverUrl: gateways[0]!.lanUrl,
      model: 'transparent',
      direct: {
        serverUrl: url,
        serverId: 'gwmo',
        username: 'transparent',
        password: 'transparent-secret',
        serverPassword: 'srv-transparent-secret',
      },
    },
    new SqliteTreeStore(join(dir, 'transparent-device.db')),
  );
  await transparent.start();
  await transparent.session();
  await server.service.queue(GATEWAYS[0]!, { kind: 'Replace', path: `./GwMO/DevInventory/Devices/${tid}/Mode`, value: '1', format: 'int' });
  await gateways[0]!.checkIn();
  closers.unshift(() => transparent.stop());
  // a nomadic device: it moves between the gateways' LANs, its jobs follow it (HLF-002)
  const nomad = new NomadicDevice({
    base: { ...lanDevice, deviceId: 'IMEI:DEMO-NOMAD', model: 'nomad' },
    lans: gateways.map((gw) => gw.lanUrl),
    everyMs: moveEvery * 1000,
    tree: new SqliteTreeStore(join(dir, 'nomad-device.db')),
    onMove: (_to, i) => log('demo.moved', { deviceId: 'IMEI:DEMO-NOMAD', gateway: GATEWAYS[i] }),
    onError: (err) => log('demo.error', { deviceId: 'IMEI:DEMO-NOMAD', error: String(err) }),
  });
  await nomad.start();
  closers.unshift(() => nomad.stop());
  await prepareCampaignDemo(
    server,
    GATEWAYS[0]!,
    [...Array.from({ length: dm }, (_, i) => `IMEI:350001${i}`), ...Array.from({ length: lw }, (_, i) => `demo1-lw${i}`)],
    log,
  );
  const api = url.replace(/\/dm$/, '/api');
  const metrics = [url, ...gateways.map((gw) => gw.lanUrl)].map((u) => u.replace(/\/dm$/, '/metrics'));
  log('demo.ready', {
    api,
    dm: url,
    gateways: GATEWAYS,
    statusPages: gateways.map((g) => g.lanUrl.replace(/\/dm$/, '/status')),
    devicesPerGateway: { dm, lwm2m: lw },
    dataDir: dir,
    metrics,
  });
  const g = encodeURIComponent(GATEWAYS[0]!);
  const base = url.replace(/\/dm$/, '');
  process.stderr.write(
    [
      '',
      `gwmo demo is running: ${GATEWAYS.length} gateways, ${GATEWAYS.length * (dm + lw) + 2} devices (${dm} DM + ${lw} LwM2M each, ${tid} in transparent mode, IMEI:DEMO-NOMAD moving every ${moveEvery} s), data in ${dir}`,
      `  dashboard  ${base}/   log in as admin / ${password}`,
      `  API        ${api}   (OpenAPI: ${api}/openapi.json)`,
      `  gateways   ${gateways.map((gw) => gw.lanUrl.replace(/\/dm$/, '/status')).join('  ')}   (status pages, read-only)`,
      `  metrics    ${metrics.join('  ')}`,
      `  try        T=${token}`,
      `             curl -s -H "authorization: Bearer $T" ${api}/gateways`,
      `             curl -s -H "authorization: Bearer $T" '${api}/gateways/${g}/devices'`,
      `             curl -s -H "authorization: Bearer $T" -X POST '${api}/gateways/${g}/fanouts' -H 'content-type: application/json' \\`,
      `               -d '{"name":"models","devices":["IMEI:3500010","demo1-lw0"],"commands":[{"kind":"Get","path":"./DevInfo/Mod"}]}'`,
      `             npx gwmo gateways devices ${GATEWAYS[0]} --api ${api} --token $T`,
      '  Ctrl-C stops the demo; the next start reuses the data.',
      '',
    ].join('\n'),
  );
}
