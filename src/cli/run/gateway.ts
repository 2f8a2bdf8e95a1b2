// `gwmo gateway`: a DM gateway with its stores, loaded only when that command runs.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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
import { serveBackups } from './backup-signal.ts';
import { oneOf, port, positive } from '../options.ts';
import { jsonLog, onShutdown } from '../shutdown.ts';

export type Flags = Record<string, string | undefined>;

export async function runGateway(f: Flags): Promise<void> {
  if (!f['password'] && !f['enrolSecret'])
    throw new CliError("--password (the gateway's secret at the server) or --enrol-secret is required");
  if (!f['devicePassword']) throw new CliError('--device-password is required (the secret end devices enrol with)');
  try {
    new URL(f['serverUrl']!);
  } catch {
    throw new CliError(`--server-url "${f['serverUrl']}" is not a URL`);
  }
  const dir = f['dataDir']!;
  mkdirSync(dir, { recursive: true });
  const stores = {
    tree: new SqliteTreeStore(join(dir, 'tree.db')),
    south: new SqliteServerStore(join(dir, 'south.db'), { exclusive: true }),
    gateway: new SqliteGatewayStore(join(dir, 'gateway.db'), { exclusive: true }),
  };
  let account = { name: f['username']!, password: f['password'] ?? '', serverPassword: f['serverPassword'] };
  if (!f['password']) {
    // an account from an earlier enrolment, else enrol now
    const known = storedAccount(new Tree({ persistence: stores.tree }), f['serverId']!);
    try {
      account = known ?? (await enrol(f['serverUrl']!, f['deviceId']!, f['enrolSecret']!));
    } catch (err) {
      for (const s of Object.values(stores)) s.close();
      throw new CliError((err as Error).message, 1);
    }
  }
  const log = jsonLog('gateway');
  const gateway = new DmGateway({
    deviceId: f['deviceId']!,
    serverUrl: f['serverUrl']!,
    serverId: f['serverId']!,
    username: account.name,
    password: account.password,
    ...(account.serverPassword ? { serverPassword: account.serverPassword } : {}),
    auth: oneOf('--auth', f['auth']!, ['basic', 'md5', 'hmac'] as const),
    encoding: oneOf('--encoding', f['encoding']!, ['xml', 'wbxml'] as const),
    lanHost: f['lanHost']!,
    lanPort: port('--lan-port', f['lanPort']!),
    lanServerId: f['lanServerId']!,
    deviceUser: f['deviceUser']!,
    devicePassword: f['devicePassword'],
    lanServerPassword: f['lanServerPassword'] ?? f['devicePassword'],
    ...(f['lanServerNonce'] !== undefined ? { lanServerNonce: lanNonce(f['lanServerNonce']) } : {}),
    notifyHost: f['notifyHost']!,
    notifyPort: port('--notify-port', f['notifyPort']!),
    checkInSeconds: positive('--check-in', f['checkIn']!),
    stores,
    imageDir: join(dir, 'images'),
    log,
    ...(f['pushChannel'] ? { pushChannel: true } : {}),
    lanRoutes: statusRoute(gatewayStatus),
    ...(f['lwm2mPort'] === 'off'
      ? {}
      : {
          lwm2mHost: f['lwm2mHost']!,
          lwm2mPort: port('--lwm2m-port', f['lwm2mPort']!),
          lwm2mAwakeMs: positive('--lwm2m-awake', f['lwm2mAwake'] ?? '93') * 1000,
        }),
    ...(f['lwm2mBootstrapPort'] === undefined || f['lwm2mBootstrapPort'] === 'off'
      ? {}
      : f['lwm2mSecureOnly']
        ? secureOnlyRefuses('--lwm2m-bootstrap-port')
        : { lwm2mHost: f['lwm2mHost']!, lwm2mBootstrapPort: port('--lwm2m-bootstrap-port', f['lwm2mBootstrapPort']) }),
    ...(f['lwm2mBootstrapDtlsPort'] === undefined || f['lwm2mBootstrapDtlsPort'] === 'off'
      ? {}
      : {
          lwm2mHost: f['lwm2mHost']!,
          lwm2mBootstrapDtlsPort: port('--lwm2m-bootstrap-dtls-port', f['lwm2mBootstrapDtlsPort']),
        }),
    ...(f['lwm2mServerUri'] !== undefined ? { lwm2mServerUri: serverUri(f['lwm2mServerUri']) } : {}),
    ...(f['lwm2mDtlsPort'] === undefined || f['lwm2mDtlsPort'] === 'off'
      ? {}
      : {
          lwm2mHost: f['lwm2mHost']!,
          lwm2mDtlsPort: port('--lwm2m-dtls-port', f['lwm2mDtlsPort']),
          lwm2mPsks: pskFile(f['lwm2mPskFile']),
          ...(f['lwm2mSecureOnly'] ? { lwm2mNoSec: false } : {}),
        }),
  });
  gateway.metrics.dm.token = f['metricsToken'];
  try {
    await gateway.start();
  } catch (err) {
    throw new CliError(
      `cannot start the gateway: ${(err as NodeJS.ErrnoException).code ?? String(err)} (is --lan-port ${f['lanPort']} free?)`,
    );
  }
  log('gateway.started', {
    lan: gateway.lanUrl,
    lwm2m: gateway.lwm2mAddress ? `coap://${gateway.lwm2mAddress}` : null,
    ...(gateway.lwm2mBootstrapAddress ? { lwm2mBootstrap: `coap://${gateway.lwm2mBootstrapAddress}` } : {}),
    ...(gateway.lwm2mBootstrapSecureAddress ? { lwm2mBootstrapSecure: `coaps://${gateway.lwm2mBootstrapSecureAddress}` } : {}),
    lwm2mSecure: gateway.lwm2mSecureUri ?? null,
    notify: gateway.notifyAddress ?? null,
    server: f['serverUrl'],
    dataDir: dir,
  });
  void gateway.checkIn();
  // `gwmo backup --data-dir <dir>` while it runs: its files are locked, so it copies them itself
  const stopBackups = serveBackups(dir, { 'gateway.db': stores.gateway, 'south.db': stores.south, 'tree.db': stores.tree }, log);
  onShutdown(async () => {
    stopBackups();
    await gateway.stop();
    for (const s of Object.values(stores)) s.close();
  });
}

function lanNonce(text: string): Uint8Array {
  try {
    return serverNonce(text);
  } catch (err) {
    throw new CliError(`--lan-server-nonce: ${(err as Error).message}`);
  }
}

function secureOnlyRefuses(flag: string): never {
  throw new CliError(
    `${flag} is plain CoAP, which --lwm2m-secure-only turns off (--lwm2m-bootstrap-dtls-port is its coaps:// counterpart)`,
  );
}

/** --lwm2m-server-uri: what a bootstrapped device is told to register with */
function serverUri(text: string): string {
  if (!/^coap:\/\/[^/\s]+\/?$/.test(text)) throw new CliError(`--lwm2m-server-uri must be coap://host:port, not "${text}"`);
  return text;
}

/** --lwm2m-psk-file: "identity endpoint hexkey" a line; # starts a comment. */
function pskFile(path: string | undefined): { identity: string; endpoint: string; key: string }[] {
  const credentials: { identity: string; endpoint: string; key: string }[] = [];
  if (!path) return credentials;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`--lwm2m-psk-file: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [identity, endpoint, hex, extra] = line.split(/\s+/);
    if (!identity || !endpoint || !hex || extra !== undefined || !/^([0-9a-f]{2}){1,64}$/i.test(hex))
      throw new CliError(`--lwm2m-psk-file ${path} line ${i + 1}: expected "identity endpoint hexkey" (1 to 64 key bytes in hex)`);
    if (credentials.some((c) => c.identity === identity || c.endpoint === endpoint))
      throw new CliError(`--lwm2m-psk-file ${path} line ${i + 1}: identity ${identity} or endpoint ${endpoint} is on an earlier line`);
    credentials.push({ identity, endpoint, key: hex.toLowerCase() });
  }
  return credentials;
}
