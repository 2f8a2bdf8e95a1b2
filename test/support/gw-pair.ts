// A DM server, a gateway and N devices in one process on loopback, with real HTTP and UDP.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { apiRoutes } from '../../src/api/routes.ts';
import { type DeviceConfig, DmDevice } from '../../src/client/device.ts';
import { DmGateway, type GatewayOptions } from '../../src/gateway/gateway.ts';
import type { GenericAlert } from '../../src/session/server/index.ts';
import { DmServer, type DmServerOptions } from '../../src/server/dm-server.ts';
import { SqliteGatewayStore } from '../../src/store/sqlite/gateway.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';

export const GW_ID = 'GW:0001';

export async function startServer(
  options: {
    imageDir?: string;
    publicUrl?: string;
    port?: number;
    enrolmentSecret?: string;
    routes?: NonNullable<DmServerOptions['routes']>;
    trace?: NonNullable<DmServerOptions['trace']>;
    imageReader?: NonNullable<DmServerOptions['imageReader']>;
    imageQuotaBytes?: number;
    log?: NonNullable<DmServerOptions['log']>;
    /** the largest message the server takes (MaxMsgSize it advertises) */
    maxMsgSize?: number;
  } = {},
) {
  const store = new SqliteServerStore(':memory:');
  const alerts: { deviceId: string; alert: GenericAlert }[] = [];
  const waiters: ((a: { deviceId: string; alert: GenericAlert }) => void)[] = [];
  const server = new DmServer({
    store,
    serverId: 'srv',
    routes: apiRoutes,
    ...options,
    events: {
      alert: (deviceId, alert) => {
        alerts.push({ deviceId, alert });
        waiters.splice(0).forEach((w) => w({ deviceId, alert }));
      },
    },
  });
  const url = await server.start();
  await server.service.addDevice({
    deviceId: GW_ID,
    name: 'gw',
    password: 'gw-pw',
    serverName: 'srv',
    serverPassword: 'srv-pw',
    scheme: 'md5',
  });
  /** the first alert (seen or to come) whose item type contains `type` */
  /** `correlator`: only the alert that carries it */
  const alertOf = (type: string, timeoutMs = 15_000, correlator?: string): Promise<GenericAlert> => {
    const match = (a: GenericAlert): boolean =>
      (correlator === undefined || a.correlator === correlator) && a.items.some((i) => (i.type ?? '').includes(type));
    const seen = alerts.find((a) => match(a.alert));
    if (seen) return Promise.resolve(seen.alert);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${type} alert within ${timeoutMs} ms`)), timeoutMs);
      const w = (a: { alert: GenericAlert }): void => {
        if (match(a.alert)) {
          clearTimeout(t);
          resolve(a.alert);
        } else waiters.push(w);
      };
      waiters.push(w);
    });
  };
  return {
    server,
    store,
    url,
    alerts,
    alertOf,
    async close() {
      await server.stop();
      await store.close();
    },
  };
}

export async function startGateway(
  serverUrl: string,
  extra: {
    lanPort?: number;
    south?: SqliteServerStore;
    gstore?: SqliteGatewayStore;
    imageDir?: string;
    lwm2m?: boolean | { port: number };
    lwm2mAwakeMs?: number;
    /** coaps:// on any free port with these PSKs (besides any the DM server provisions) */
    lwm2mPsks?: GatewayOptions['lwm2mPsks'];
    /** coaps:// on any free port, with no local PSKs */
    lwm2mDtls?: boolean;
    deviceId?: string;
    account?: { name: string; password: string; serverPassword: string };
    config?: Record<string, string>;
    lanRoutes?: GatewayOptions['lanRoutes'];
    lanServerNonce?: Uint8Array;
    log?: GatewayOptions['log'];
    lwm2mBootstrap?: boolean;
    /** the bootstrap server over DTLS too (coaps://) */
    lwm2mBootstrapDtls?: boolean;
  } = {},
) {
  const south = extra.south ?? new SqliteServerStore(':memory:');
  const gstore = extra.gstore ?? new SqliteGatewayStore(':memory:');
  const imageDir = extra.imageDir ?? mkdtempSync(join(tmpdir(), 'gwmo-images-'));
  for (const [k, v] of Object.entries(extra.config ?? {})) gstore.setConfig(k, v);
  const gateway = new DmGateway({
    deviceId: extra.deviceId ?? GW_ID,
    serverUrl,
    serverId: 'srv',
    username: extra.account?.name ?? 'gw',
    password: extra.account?.password ?? 'gw-pw',
    serverPassword: extra.account?.serverPassword ?? 'srv-pw',
    auth: 'md5',
    encoding: 'wbxml',
    lanHost: '127.0.0.1',
    lanPort: extra.lanPort ?? 0,
    lanServerId: 'gwmo-gateway',
    deviceUser: 'device',
    devicePassword: 'lan-pw',
    lanServerPassword: 'lan-srv-pw',
    notifyPort: 0,
    checkInSeconds: 0,
    stores: { south, gateway: gstore },
    imageDir,
    ...(extra.lwm2m ? { lwm2mPort: typeof extra.lwm2m === 'object' ? extra.lwm2m.port : 0 } : {}),
    ...(extra.lwm2mAwakeMs !== undefined ? { lwm2mAwakeMs: extra.lwm2mAwakeMs } : {}),
    ...(extra.lwm2mPsks || extra.lwm2mDtls ? { lwm2mDtlsPort: 0, ...(extra.lwm2mPsks ? { lwm2mPsks: extra.lwm2mPsks } : {}) } : {}),
    ...(extra.lanRoutes ? { lanRoutes: extra.lanRoutes } : {}),
    ...(extra.lanServerNonce ? { lanServerNonce: extra.lanServerNonce } : {}),
    ...(extra.log ? { log: extra.log } : {}),
    ...(extra.lwm2mBootstrap ? { lwm2mBootstrapPort: 0 } : {}),
    ...(extra.lwm2mBootstrapDtls ? { lwm2mBootstrapDtlsPort: 0 } : {}),
  });
  await gateway.start();
  return {
    gateway,
    south,
    gstore,
    imageDir,
    async close() {
      await gateway.stop();
      if (!extra.imageDir) rmSync(imageDir, { recursive: true, force: true });
    },
  };
}

/** A simulated DM device that enrols behind the gateway at `lanUrl` with the LAN secrets startGateway sets. */
export function lanDevice(lanUrl: string, deviceId: string, extra: Partial<DeviceConfig> = {}): DeviceConfig {
  return {
    deviceId,
    serverUrl: lanUrl,
    serverId: 'gwmo-gateway',
    username: 'device',
    password: 'lan-pw',
    serverPassword: 'lan-srv-pw',
    auth: 'md5',
    encoding: 'xml',
    manufacturer: 'Acme',
    model: 'Meter',
    language: 'en',
    firmware: '1.0',
    notifyHost: '127.0.0.1',
    notifyPort: 0,
    checkInSeconds: 0,
    ...extra,
  };
}

export async function startDevices(lanUrl: string, n: number, first = 0): Promise<DmDevice[]> {
  const devices = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const d = new DmDevice(lanDevice(lanUrl, `IMEI:${String(first + i).padStart(15, '0')}`, { model: i % 2 ? 'Sensor' : 'Meter' }));
      await d.start();
      return d;
    }),
  );
  // every device registers with a first session (in small batches: 2 cores)
  for (let i = 0; i < devices.length; i += 25) await Promise.all(devices.slice(i, i + 25).map((d) => d.session()));
  return devices;
}

/** A server, a checked-in gateway (with image folders of their own when `images`) and `devices`
 * DM devices behind it, all stopped and removed after the test. */
export async function startRig(
  t: { after(fn: () => unknown): void },
  o: { images?: boolean; devices?: number; gateway?: Parameters<typeof startGateway>[1]; server?: Parameters<typeof startServer>[0] } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-rig-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const srv = await startServer({ ...o.server, ...(o.images ? { imageDir: join(dir, 'server') } : {}) });
  t.after(() => srv.close());
  const gw = await startGateway(srv.url, { ...o.gateway, ...(o.images ? { imageDir: join(dir, 'gateway') } : {}) });
  t.after(() => gw.close());
  const devices = o.devices ? await startDevices(gw.gateway.lanUrl, o.devices) : [];
  t.after(async () => {
    for (const d of devices) await d.stop();
  });
  await gw.gateway.checkIn();
  return { dir, srv, gw, devices, api: srv.url.replace(/\/dm$/, '/api') };
}
