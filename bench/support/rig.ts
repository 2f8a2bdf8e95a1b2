// A server and one gateway in the bench process (SQLite files for the gateway under a temp dir),
// the gateway registered at the server and checked in; alerts reach `alertOf`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DmGateway, type GatewayOptions } from '../../src/gateway/gateway.ts';
import type { GenericAlert } from '../../src/session/server/index.ts';
import type { AlertRow } from '../../src/store/server.ts';
import { DmServer } from '../../src/server/dm-server.ts';
import { SqliteGatewayStore } from '../../src/store/sqlite/gateway.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';

export const RIG_GATEWAY = 'GW:BENCH';

export async function startRig(
  options: {
    config?: Readonly<Record<string, string>>;
    lwm2m?: boolean;
    /** coaps:// besides plain CoAP, with these PSKs */
    lwm2mDtls?: GatewayOptions['lwm2mPsks'];
    images?: boolean;
    /** every alert as the server stored it (what its API serves) */
    alertStored?: (row: AlertRow) => void;
  } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-bench-'));
  const store = new SqliteServerStore(':memory:');
  const waiting: { type: string; resolve: (a: GenericAlert) => void }[] = [];
  const server = new DmServer({
    store,
    serverId: 'srv',
    ...(options.images ? { imageDir: join(dir, 'server-images') } : {}),
    events: {
      alert: (_d, a) => waiting.filter((w) => a.items[0]?.type?.includes(w.type)).forEach((w) => w.resolve(a)),
      ...(options.alertStored ? { alertStored: options.alertStored } : {}),
    },
  });
  const url = await server.start();
  await server.service.addDevice({
    deviceId: RIG_GATEWAY,
    name: 'gw',
    password: 'gw-pw',
    serverName: 'srv',
    serverPassword: 'srv-pw',
    scheme: 'md5',
  });
  const gstore = new SqliteGatewayStore(join(dir, 'gateway.db'), { exclusive: true });
  const south = new SqliteServerStore(join(dir, 'south.db'), { exclusive: true });
  for (const [k, v] of Object.entries(options.config ?? {})) gstore.setConfig(k, v);
  const gateway = new DmGateway({
    deviceId: RIG_GATEWAY,
    serverUrl: url,
    serverId: 'srv',
    username: 'gw',
    password: 'gw-pw',
    serverPassword: 'srv-pw',
    auth: 'md5',
    encoding: 'wbxml',
    lanHost: '127.0.0.1',
    lanPort: 0,
    lanServerId: 'gwmo-gateway',
    deviceUser: 'device',
    devicePassword: 'lan-pw',
    lanServerPassword: 'lan-srv-pw',
    notifyPort: 0,
    checkInSeconds: 0,
    stores: { south, gateway: gstore },
    imageDir: join(dir, 'images'),
    ...(options.lwm2m ? { lwm2mPort: 0 } : {}),
    ...(options.lwm2mDtls ? { lwm2mDtlsPort: 0, lwm2mPsks: options.lwm2mDtls } : {}),
  });
  await gateway.start();
  await gateway.checkIn();
  return {
    server,
    gateway,
    gstore,
    dir,
    /** the next alert whose type contains `type` */
    alertOf: (type: string): Promise<GenericAlert> => new Promise((resolve) => waiting.push({ type, resolve })),
    /** a group ("all" unless named) of the given devices, written straight into the gateway's store (setup, not measured) */
    groupAll(deviceIds: readonly string[], name = 'all'): void {
      gstore.putGroup(name, '');
      gstore.setMembers(
        name,
        deviceIds.map((deviceId, i) => ({ name: `m${i}`, deviceId })),
      );
    },
    async close(): Promise<void> {
      await gateway.stop();
      await server.stop();
      for (const s of [gstore, south, store]) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
