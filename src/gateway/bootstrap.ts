// Bootstrap of an end device by the gateway (HLF-005/006): the gateway, as the device's DM server,
// writes a DM account into the device's ./DMAcc — for itself (the device is then managed in proxy
// mode) or for the DM server (transparent mode) — with credentials the server supplied.
import type { DriverCommand, EndDeviceDriver } from '../adapters/driver.ts';
import type { GatewayStore } from '../store/gateway.ts';
import type { GatewayAlert } from './inventory.ts';
import { Mode, deviceUri } from './inventory.ts';

export const BOOTSTRAP_ALERT = 'urn:x-gwmo:at:bootstrap:1.0';

export interface BootstrapSpec {
  /** 1 = to the gateway (HLF-005), 2 = to the DM server (HLF-006) */
  target?: number;
  serverId?: string;
  serverUri?: string;
  authName?: string;
  authSecret?: string;
  serverSecret?: string;
}

const KEY = (deviceId: string): string => `bootstrap/${deviceId}`;

export function readSpec(store: GatewayStore, deviceId: string): BootstrapSpec {
  const text = store.getConfig(KEY(deviceId));
  return text ? (JSON.parse(text) as BootstrapSpec) : {};
}

export function writeSpec(store: GatewayStore, deviceId: string, patch: Partial<BootstrapSpec>): void {
  store.setConfig(KEY(deviceId), JSON.stringify({ ...readSpec(store, deviceId), ...patch }));
}

/** The DM commands that create the account (DM 1.2 DMAcc, digest §8.6). */
export function accountCommands(spec: Required<Omit<BootstrapSpec, 'target'>>, id: string): DriverCommand[] {
  const base = `./DMAcc/${id}`;
  const s = spec.serverId;
  const add = (path: string, data?: string, format?: string): DriverCommand => ({
    kind: 'Add',
    target: `${base}${path}`,
    ...(data !== undefined ? { data } : {}),
    ...(format ? { format } : {}),
  });
  return [
    add('', undefined, 'node'),
    add('/AppID', 'w7'),
    add('/ServerID', s),
    add('/AppAddr', undefined, 'node'),
    add('/AppAddr/1', undefined, 'node'),
    add('/AppAddr/1/Addr', spec.serverUri),
    add('/AppAddr/1/AddrType', 'URI'),
    add('/AAuthPref', 'DIGEST'),
    add('/AppAuth', undefined, 'node'),
    add('/AppAuth/toserver', undefined, 'node'),
    add('/AppAuth/toserver/AAuthLevel', 'CLCRED'),
    add('/AppAuth/toserver/AAuthType', 'DIGEST'),
    add('/AppAuth/toserver/AAuthName', spec.authName),
    add('/AppAuth/toserver/AAuthSecret', spec.authSecret),
    add('/AppAuth/toclient', undefined, 'node'),
    add('/AppAuth/toclient/AAuthLevel', 'SRVCRED'),
    add('/AppAuth/toclient/AAuthType', 'DIGEST'),
    add('/AppAuth/toclient/AAuthName', s),
    add('/AppAuth/toclient/AAuthSecret', spec.serverSecret),
    // only the new account's server may read or change it
    { kind: 'Replace', target: `${base}?prop=ACL`, data: `Get=${s}&Add=${s}&Replace=${s}&Delete=${s}` },
  ];
}

/** Exec Operations/Start: 202; the outcome comes as a Generic Alert (and the device's Mode changes). */
export function startBootstrap(o: {
  deviceId: string;
  store: GatewayStore;
  driver: EndDeviceDriver | undefined;
  correlator: string | undefined;
  alert: (a: GatewayAlert) => void;
  timeoutMs: number;
  /** Target 1: the gateway authenticates the device with the new credentials from now on, and proves itself with the new server secret */
  adopt(name: string, secret: string, serverSecret: string): void;
}): number {
  const spec = readSpec(o.store, o.deviceId);
  if (spec.target !== 1 && spec.target !== 2) return 412;
  if (!spec.serverId || !spec.serverUri || !spec.authName || !spec.authSecret || !spec.serverSecret) return 412;
  const device = o.store.getDevice(o.deviceId);
  if (!device) return 404;
  if (!device.attached) return 410;
  if (!o.driver || !device.protocol.startsWith('OMA-DM')) return 406; // only DM devices have a DMAcc
  const commands = accountCommands(
    spec as Required<Omit<BootstrapSpec, 'target'>>,
    spec.target === 1 ? 'gateway' : `s-${spec.serverId.replace(/[^A-Za-z0-9]/g, '')}`,
  );
  void o.driver
    .execute(o.deviceId, commands, {
      key: `bootstrap/${o.deviceId}/${Date.now()}`,
      timeoutMs: o.timeoutMs,
      retries: 1,
      cancelled: () => false,
    })
    .then((results) => {
      const failed = results.find((r) => r.status !== 200);
      const status = failed?.status ?? 200;
      if (status === 200) {
        o.store.putDevice({ ...o.store.getDevice(o.deviceId)!, mode: spec.target === 1 ? Mode.Proxy : Mode.Transparent });
        if (spec.target === 1) o.adopt(spec.authName!, spec.authSecret!, spec.serverSecret!);
      }
      o.alert({
        type: BOOTSTRAP_ALERT,
        source: `${deviceUri(o.deviceId)}/Bootstrap/Operations/Start`,
        format: 'int',
        data: String(status),
        ...(o.correlator ? { correlator: o.correlator } : {}),
        mark: status === 200 ? 'informational' : 'critical',
      });
    });
  return 202;
}
