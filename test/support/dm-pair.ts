// A DM server and a device in one process, over real HTTP on loopback.
import { DmClientAgent } from '../../src/client/agent.ts';
import { apiRoutes } from '../../src/api/routes.ts';
import { DmServer } from '../../src/server/dm-server.ts';
import type { DmAuthLimits } from '../../src/server/dm-auth-guard.ts';
import type { SessionTrace } from '../../src/server/trace.ts';
import type { NewDevice } from '../../src/server/service.ts';
import type { ClientQuirks } from '../../src/session/client/quirks.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { DmHttpClient } from '../../src/transport/index.ts';
import { addAccount, installDevDetail, installDevInfo, Tree } from '../../src/tree/index.ts';

export type Scheme = 'basic' | 'md5' | 'hmac';

export interface PairOptions {
  readonly scheme?: Scheme;
  readonly encoding?: 'xml' | 'wbxml';
  readonly devicePassword?: string;
  readonly deviceMaxMsgSize?: number;
  readonly serverMaxMsgSize?: number;
  readonly serverCredentials?: boolean;
  readonly trace?: SessionTrace;
  /** limits of the DM authentication guard (the fuzz lifts them: it tests parsing, not lockout) */
  readonly authLimits?: DmAuthLimits;
  /** behaviours of deployed clients the device takes on */
  readonly quirks?: ClientQuirks;
  /** fields of the server's account for the device (serverNonce, sessionProfile) */
  readonly account?: Pick<NewDevice, 'serverNonce' | 'sessionProfile'>;
}

export async function startPair(options: PairOptions = {}) {
  const store = new SqliteServerStore(':memory:');
  const server = new DmServer({
    store,
    serverId: 'gwmo-srv',
    routes: apiRoutes,
    ...(options.trace ? { trace: options.trace } : {}),
    ...(process.env['GWMO_TEST_LOG'] ? { log: (e: string, f: Record<string, unknown>) => console.error(e, f) } : {}),
    ...(options.serverMaxMsgSize ? { maxMsgSize: options.serverMaxMsgSize } : {}),
    ...(options.authLimits ? { authLimits: options.authLimits } : {}),
  });
  const url = await server.start();
  const scheme = options.scheme ?? 'md5';
  const withServerCred = options.serverCredentials ?? scheme !== 'basic';
  await server.service.addDevice({
    deviceId: 'IMEI:359881234567890',
    name: 'dev1',
    password: 'dev-secret',
    scheme,
    ...(withServerCred ? { serverName: 'gwmo-srv', serverPassword: 'srv-secret' } : {}),
    ...options.account,
  });
  const tree = new Tree();
  installDevInfo(tree, { DevId: 'IMEI:359881234567890', Man: 'Acme', Mod: 'Roadrunner', DmV: '1.2', Lang: 'en-US' });
  installDevDetail(tree, { DevTyp: 'phone', OEM: 'Acme', FwV: '1.0', SwV: '2.0', HwV: 'A', LrgObj: true });
  const type = scheme === 'basic' ? 'BASIC' : scheme === 'md5' ? 'DIGEST' : 'HMAC';
  addAccount(tree, {
    id: 'gwmo',
    serverId: 'gwmo-srv',
    addr: url,
    client: { type, name: 'dev1', secret: options.devicePassword ?? 'dev-secret' },
    ...(withServerCred ? { server: { type, name: 'gwmo-srv', secret: 'srv-secret' } } : {}),
  });
  // the device lets its server manage everything outside the read-only MOs
  tree.define('.', { format: 'node', acl: 'Add=*&Get=*&Replace=gwmo-srv&Delete=gwmo-srv&Exec=gwmo-srv' });
  const http = new DmHttpClient({ retries: 0, timeoutMs: 10_000 });
  const agent = new DmClientAgent({
    tree,
    http,
    clock: { now: () => Date.now() },
    encoding: options.encoding ?? 'xml',
    ...(options.deviceMaxMsgSize ? { maxMsgSize: options.deviceMaxMsgSize } : {}),
    ...(options.quirks ? { quirks: options.quirks } : {}),
  });
  return {
    server,
    store,
    tree,
    agent,
    url,
    deviceId: 'IMEI:359881234567890',
    async close() {
      http.close();
      await server.stop();
      await store.close();
    },
  };
}
