// LwM2M observations behind gateways, from the server's side: the operations that set one in a
// gateway's ./GwMO/Observations, and the latest value per path from the notify alerts it sent.
import type { NewOperation } from './service.ts';
import { requireIdentifier, ServiceError } from './service.ts';
import type { AlertRow } from '../store/server.ts';
import { nodeName } from './gateways.ts';

export const NOTIFY_ALERT = 'org.gwmo.lwm2m.notify';
export const SEND_ALERT = 'org.gwmo.lwm2m.send';
const NAME = /^[A-Za-z0-9\-_.!~*'():@&=+$,]+$/;
const ATTRIBUTES = ['pmin', 'pmax', 'gt', 'lt', 'st'];

export interface ObservationRequest {
  readonly name: string;
  readonly path: string;
  readonly devices?: readonly string[];
  readonly groups?: readonly string[];
  readonly attributes?: Readonly<Record<string, number>>;
}

/** The DM operations that write the observation into the gateway and start it; refuses what the gateway would. */
export function observationOperations(o: ObservationRequest): NewOperation[] {
  if (!NAME.test(o.name))
    throw new ServiceError(400, `observation name "${o.name}" may hold letters, digits and - _ . ! ~ * ' ( ) : @ & = + $ , only`);
  if (!/^\.\/[A-Za-z0-9/]+$/.test(o.path)) throw new ServiceError(400, `path "${o.path}" is not a device path such as ./3303/0/5700`);
  const devices = o.devices ?? [];
  const groups = o.groups ?? [];
  if (devices.length === 0 && groups.length === 0) throw new ServiceError(400, 'give devices or groups to observe on');
  devices.forEach((d, i) => requireIdentifier(d, `devices[${i}]`));
  for (const g of groups) if (!NAME.test(g)) throw new ServiceError(400, `group name "${g}" is not a node name`);
  const attributes = Object.entries(o.attributes ?? {});
  for (const [k, v] of attributes) {
    if (!ATTRIBUTES.includes(k)) throw new ServiceError(400, `attribute "${k}" is not one of ${ATTRIBUTES.join(', ')}`);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ServiceError(400, `attribute ${k} must be a number`);
  }
  const base = `./GwMO/Observations/${o.name}`;
  return [
    { kind: 'Add', path: base, format: 'node' },
    { kind: 'Replace', path: `${base}/Path`, value: o.path },
    { kind: 'Replace', path: `${base}/Devices`, value: devices.join(',') },
    { kind: 'Replace', path: `${base}/Groups`, value: groups.join(',') },
    { kind: 'Replace', path: `${base}/Attributes`, value: attributes.map(([k, v]) => `${k}=${v}`).join('&') },
    { kind: 'Exec', path: `${base}/Operations/Start` },
  ];
}

export interface ObservedValue {
  readonly path: string;
  /** the SenML record as the device gave it: v, vs, vb, vd or vlo keep the type */
  readonly record: Readonly<Record<string, unknown>>;
  readonly gatewayId: string;
  readonly at: string;
  readonly via: 'notify' | 'send';
}

/** The latest value per path for a device, from the gateways' notify and send alerts (newest alert wins). */
export function latestObserved(deviceId: string, alerts: readonly AlertRow[]): ObservedValue[] {
  const latest = new Map<string, ObservedValue>();
  const suffix = `/Devices/${nodeName(deviceId)}`;
  for (const a of [...alerts].sort((x, y) => x.receivedAt - y.receivedAt || x.id - y.id)) {
    for (const item of a.items) {
      const type = item['type'];
      if ((type !== NOTIFY_ALERT && type !== SEND_ALERT) || !String(item['source'] ?? '').endsWith(suffix)) continue;
      let records: unknown;
      try {
        records = JSON.parse(String(item['data'] ?? ''));
      } catch {
        continue; // not SenML JSON: nothing to show
      }
      if (!Array.isArray(records)) continue;
      let bn = '';
      for (const r of records as Record<string, unknown>[]) {
        if (typeof r['bn'] === 'string') bn = r['bn'];
        const path = `${bn}${typeof r['n'] === 'string' ? r['n'] : ''}`;
        const { bn: _bn, n: _n, ...value } = r;
        latest.set(path, {
          path,
          record: value,
          gatewayId: a.deviceId,
          at: new Date(a.receivedAt).toISOString(),
          via: type === SEND_ALERT ? 'send' : 'notify',
        });
      }
    }
  }
  return [...latest.values()].sort((x, y) => x.path.localeCompare(y.path));
}
