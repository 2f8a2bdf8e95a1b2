import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';

import { DmGateway } from '../../gateway/gateway.ts';
import { gatewayStatus } from '../../api/gateway-status.ts';
import { statusRoute } from '../../web/gateway-status.ts';
import { enrol, storedAccount } from '../../gateway/enrol.ts';
import { Tree } from '../../tree/index.ts';
import { SqliteGatewayStore } from '../../store/sqlite/gateway.ts';
import { SqliteServerStore } from '../../store/sqlite/server.ts';
import { SqliteTreeStore } from '../../store/sqlite/tree.ts';
import { serverNonce } from '../../server/session-profile.ts';
import { CliError } from '../cli-error.ts';
import { oneOf, port, positive } from '../options.ts';
import { jsonLog, onShutdown } from '../shutdown.ts';

type Flags = Record<string, string | undefined>;

export function registerGateway(program: Command): void {
  program
    .command('gateway')
    .description('run a DM gateway (GwMO): a DM client of the server northbound, a DM server for end devices on its LAN side')
    .option('--device-id <id>', 'the gateway\'s own DevId', 'GW:0001')
    .option('--server-url <url>', 'the DM server\'s endpoint', 'http://127.0.0.1:8080/dm')
    .option('--server-id <id>', 'the server\'s ServerID', 'gwmo')
    .option('--username <name>', 'name the gateway authenticates with at the server', 'gateway')
    .option('--password <secret>', 'its secret at the server (or --enrol-secret)')
    .option('--enrol-secret <secret>', 'no account yet: obtain one from the server with its enrolment credential (kept in the data dir)')
    .option('--server-password <secret>', 'the server\'s secret (SRVCRED): verifies Package#0 and the server')
    .option('--auth <scheme>', 'basic, md5 or hmac toward the server', 'md5')
    .option('--encoding <enc>', 'xml or wbxml toward the server', 'wbxml')
    .option('--lan-host <address>', 'address the LAN-side DM server listens on', '127.0.0.1')
    .option('--lan-port <n>', 'its TCP port (0 = any free port)', '8081')
    .option('--lan-server-id <id>', 'the ServerID devices have for the gateway', 'gwmo-gateway')
    .option('--device-user <name>', 'name end devices enrol with', 'device')
    .option('--device-password <secret>', 'secret end devices enrol with (any device presenting it gets an account)')
    .option('--lan-server-password <secret>', 'the gateway\'s secret toward devices (their SRVCRED; Package#0 to them)')
    .option('--lan-server-nonce <base64>', 'the nonce devices are provisioned with for the gateway\'s Cred ("" = empty; default: the resync nonce, docs/auth.md)')
    .option('--lwm2m-host <address>', 'address the LwM2M server (adaptation mode, CoAP over UDP) listens on', '127.0.0.1')
    .option('--lwm2m-port <n>', 'its UDP port (0 = any free port; "off" = no LwM2M)', '5683')
    .option('--push-channel', 'behind NAT: keep a long-poll open at the server for Package#0 instead of (or besides) listening')
    .option('--notify-host <address>', 'address the Package#0 listener binds (northbound)', '127.0.0.1')
    .option('--notify-port <n>', 'UDP port for Package#0 from the server (0 = any free port)', '0')
    .option('--check-in <seconds>', 'seconds between sessions with the server (0 = at start and for alerts only)', '60')
    .option('--data-dir <dir>', 'where gateway.db, south.db and tree.db are kept', './data/gateway')
    .option('--metrics-token <token>', 'GET /metrics on the LAN listener needs "authorization: Bearer <token>" (default: open)')
    .action(async (f: Flags) => {
      if (!f['password'] && !f['enrolSecret']) throw new CliError('--password (the gateway\'s secret at the server) or --enrol-secret is required');
      if (!f['devicePassword']) throw new CliError('--device-password is required (the secret end devices enrol with)');
      try {
        new URL(f['serverUrl']!);
      } catch {
        throw new CliError(`--server-url "${f['serverUrl']}" is not a URL`);
      }
      const dir = f['dataDir']!;
      mkdirSync(dir, { recursive: true });
      const stores = { tree: new SqliteTreeStore(join(dir, 'tree.db')), south: new SqliteServerStore(join(dir, 'south.db'), { exclusive: true }), gateway: new SqliteGatewayStore(join(dir, 'gateway.db'), { exclusive: true }) };
      let account = { name: f['username']!, password: f['password'] ?? '', serverPassword: f['serverPassword'] };
      if (!f['password']) {
        // an account from an earlier enrolment, else enrol now
        const known = storedAccount(new Tree({ persistence: stores.tree }), f['serverId']!);
        try {
          account = known ?? await enrol(f['serverUrl']!, f['deviceId']!, f['enrolSecret']!);
        } catch (err) {
          for (const s of Object.values(stores)) s.close();
          throw new CliError((err as Error).message, 1);
        }
      }
      const log = jsonLog('gateway');
      const gateway = new DmGateway({
        deviceId: f['deviceId']!, serverUrl: f['serverUrl']!, serverId: f['serverId']!, username: account.name, password: account.password,
        ...(account.serverPassword ? { serverPassword: account.serverPassword } : {}),
        auth: oneOf('--auth', f['auth']!, ['basic', 'md5', 'hmac'] as const), encoding: oneOf('--encoding', f['encoding']!, ['xml', 'wbxml'] as const),
        lanHost: f['lanHost']!, lanPort: port('--lan-port', f['lanPort']!), lanServerId: f['lanServerId']!,
        deviceUser: f['deviceUser']!, devicePassword: f['devicePassword'], lanServerPassword: f['lanServerPassword'] ?? f['devicePassword'],
        ...(f['lanServerNonce'] !== undefined ? { lanServerNonce: lanNonce(f['lanServerNonce']) } : {}),
        notifyHost: f['notifyHost']!, notifyPort: port('--notify-port', f['notifyPort']!), checkInSeconds: positive('--check-in', f['checkIn']!),
        stores, imageDir: join(dir, 'images'), log, ...(f['pushChannel'] ? { pushChannel: true } : {}),
        lanRoutes: statusRoute(gatewayStatus),
        ...(f['lwm2mPort'] === 'off' ? {} : { lwm2mHost: f['lwm2mHost']!, lwm2mPort: port('--lwm2m-port', f['lwm2mPort']!) }),
      });
      gateway.metrics.dm.token = f['metricsToken'];
      try {
        await gateway.start();
      } catch (err) {
        throw new CliError(`cannot start the gateway: ${(err as NodeJS.ErrnoException).code ?? String(err)} (is --lan-port ${f['lanPort']} free?)`);
      }
      log('gateway.started', { lan: gateway.lanUrl, lwm2m: gateway.lwm2mAddress ? `coap://${gateway.lwm2mAddress}` : null, notify: gateway.notifyAddress ?? null, server: f['serverUrl'], dataDir: dir });
      void gateway.checkIn();
      onShutdown(async () => {
        await gateway.stop();
        for (const s of Object.values(stores)) s.close();
      });
    });
}

function lanNonce(text: string): Uint8Array {
  try {
    return serverNonce(text);
  } catch (err) {
    throw new CliError(`--lan-server-nonce: ${(err as Error).message}`);
  }
}
