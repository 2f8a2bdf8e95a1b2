// `gwmo device`: a simulated DM (or LwM2M) device, loaded only when that command runs.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { DmDevice, type DeviceConfig } from '../../client/device.ts';
import { Lwm2mDevice, type Lwm2mDeviceOptions } from '../../sim/lwm2m-device.ts';
import { SqliteTreeStore } from '../../store/sqlite/tree.ts';
import { CliError } from '../cli-error.ts';
import { oneOf, port, positive } from '../options.ts';
import { jsonLog, onShutdown } from '../shutdown.ts';
import { lwm2mExchangeOptions, lwm2mFormatOptions, lwm2mSecurityOptions } from './lwm2m-options.ts';

export async function runDevice(cli: Record<string, string | boolean | undefined>): Promise<void> {
  const merged: Record<string, unknown> = cli; // --config and GWMO_* are merged in by ../config.ts
  const s = (k: string): string | undefined => (typeof merged[k] === 'string' ? (merged[k] as string) : undefined);
  if (oneOf('--protocol', s('protocol') ?? 'dm', ['dm', 'lwm2m'] as const) === 'lwm2m') {
    const security = lwm2mSecurityOptions(merged);
    await runLwm2m({
      endpoint: s('deviceId')!,
      // a device with a bootstrap account learns its server there
      ...(security.bootstrap ? {} : { server: s('serverUrl')! }),
      ...security,
      lifetimeS: positive('--lifetime', s('lifetime') ?? '300'),
      manufacturer: s('manufacturer')!,
      model: s('model')!,
      firmware: s('firmware')!,
      host: s('notifyHost')!,
      ...lwm2mFormatOptions(s('lwm2mVersion'), s('lwm2mFormats')),
      ...lwm2mExchangeOptions(merged),
    });
    return;
  }
  const password = s('password');
  if (password === undefined) throw new CliError('--password is required (the secret the server has for this device)');
  const config: DeviceConfig = {
    deviceId: s('deviceId')!,
    serverUrl: s('serverUrl')!,
    serverId: s('serverId')!,
    username: s('username')!,
    password,
    ...(s('serverPassword') !== undefined ? { serverPassword: s('serverPassword')! } : {}),
    auth: oneOf('--auth', s('auth')!, ['basic', 'md5', 'hmac'] as const),
    encoding: oneOf('--encoding', s('encoding')!, ['xml', 'wbxml'] as const),
    manufacturer: s('manufacturer')!,
    model: s('model')!,
    language: s('language')!,
    firmware: s('firmware')!,
    notifyHost: s('notifyHost')!,
    notifyPort: port('--notify-port', s('notifyPort')!),
    checkInSeconds: positive('--check-in', s('checkIn')!),
    ...(merged['routable'] === true ? { routable: true } : {}),
    ...(s('ca') !== undefined ? { ca: readFileSync(s('ca')!) } : {}),
    ...(s('directServerUrl') !== undefined
      ? {
          direct: {
            serverUrl: s('directServerUrl')!,
            serverId: s('directServerId') ?? 'gwmo',
            username: s('directUsername') ?? s('username')!,
            password: s('directPassword') ?? password,
            ...(s('directServerPassword') !== undefined ? { serverPassword: s('directServerPassword')! } : {}),
          },
        }
      : {}),
  };
  try {
    new URL(config.serverUrl);
  } catch {
    throw new CliError(`--server-url "${config.serverUrl}" is not a URL`);
  }
  let treePath = s('tree');
  if (treePath === undefined) {
    mkdirSync(s('dataDir')!, { recursive: true });
    treePath = join(s('dataDir')!, `device-${config.deviceId.replace(/[^A-Za-z0-9._-]/g, '_')}.db`);
  }
  const store = new SqliteTreeStore(treePath);
  const log = jsonLog('device');
  const device = new DmDevice(config, store, log);
  // before the first session: a server that does not answer must not keep a SIGTERM from stopping cleanly
  let stopping = false;
  onShutdown(async () => {
    stopping = true;
    await device.stop();
    store.close();
  });
  const once = merged['once'] === true;
  if (!once) await device.start();
  log('device.started', { deviceId: config.deviceId, server: config.serverUrl, notify: device.notifyAddress ?? null, tree: treePath });
  const report = await device.session();
  if (once && !stopping) {
    await device.stop();
    store.close();
    if (report.end !== 'done') throw new CliError(`session ${report.end}${report.error ? `: ${report.error}` : ''}`, 1);
  }
}

/** An LwM2M client; its CoAP endpoint binds --notify-host (the address it is reached at). */
async function runLwm2m(options: Lwm2mDeviceOptions & { readonly lifetimeS: number }): Promise<void> {
  const { endpoint, lifetimeS } = options;
  const server = options.server ?? options.bootstrap!.uri;
  if (options.server !== undefined && !/^coaps?:\/\//.test(server))
    throw new CliError(`--server-url must be coap://host:port or coaps://host:port for an LwM2M device, not "${server}"`);
  const log = jsonLog('device');
  const device = new Lwm2mDevice(options);
  // before registering: a gateway that does not answer must not keep a SIGTERM from stopping cleanly
  let stopping = false;
  onShutdown(async () => {
    stopping = true;
    await device.deregister().catch(() => undefined);
    await device.stop();
  });
  try {
    await device.start();
  } catch (err) {
    if (stopping) return; // the registration was cut short by the stop
    throw new CliError(`cannot register with ${server}: ${err instanceof Error ? err.message : String(err)}`, 1);
  }
  log('device.started', {
    protocol: 'lwm2m',
    endpoint,
    server: device.account()?.uri ?? server,
    ...(options.bootstrap ? { bootstrap: options.bootstrap.uri } : {}),
    address: device.address,
    lifetime: lifetimeS,
    version: device.version,
    formats: device.formats,
  });
}
