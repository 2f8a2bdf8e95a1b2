// Observations of LwM2M resources the DM server asked for (./GwMO/Ext/Observations): Write-Attributes
// then Observe on each device; notifications and Sends go north as Generic Alerts. They are kept in
// the gateway store, so they are set again when a device registers (also after a gateway restart).
import { EventEmitter } from 'node:events';

import { decodePayload, encodePayload } from '../adapters/lwm2m/codec.ts';
import { inDeviceFormats } from '../adapters/lwm2m/formats.ts';
import { ContentFormat, type Path, pathText } from '../adapters/lwm2m/model.ts';
import { lwm2mPath } from '../adapters/lwm2m/paths.ts';
import type { CoapAnswer, Lwm2mServer, Registration } from '../adapters/lwm2m/server.ts';
import type { GatewayStore } from '../store/gateway.ts';
import { deviceUri, type GatewayAlert } from './inventory.ts';

export const NOTIFY_ALERT = 'org.gwmo.lwm2m.notify';
export const SEND_ALERT = 'org.gwmo.lwm2m.send';
/** Write-Attributes names LwM2M 1.1 §5.1.2 defines for notifications */
export const ATTRIBUTES = ['pmin', 'pmax', 'gt', 'lt', 'st'] as const;
/** Observes a Start sends at once */
export const START_AT_ONCE = 256;
/** where the specs are kept in the gateway store (its key/value table) */
export const OBSERVATIONS_KEY = 'lwm2m.observations';

export interface ObservationSpec {
  readonly name: string;
  /** DM-style URI on the device: ./3303/0/5700 (or an alias such as ./DevDetail/FwV) */
  readonly path: string;
  readonly devices: readonly string[];
  /** inventory groups whose members are observed too (members as they are when a device registers or Start runs) */
  readonly groups?: readonly string[];
  readonly attributes: Readonly<Record<string, number>>;
  /** once started it is not edited (a change is a Delete and a new one) */
  readonly started?: boolean;
}

export interface ObservationDeps {
  readonly server: Lwm2mServer;
  readonly store: GatewayStore;
  /** alerts one device may raise: `perSecond` on average, `burst` at once (default 20/s, 200) */
  readonly rate?: { readonly perSecond: number; readonly burst: number };
  readonly now?: () => number;
  alert(a: GatewayAlert): void;
  log?(event: string, fields: Record<string, unknown>): void;
}

/** `pmin=10&pmax=60` → { pmin: 10, pmax: 60 }; undefined when a name or number is not one LwM2M knows */
export function parseAttributes(text: string): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const n = Number(v);
    if (!(ATTRIBUTES as readonly string[]).includes(k) || v === '' || !Number.isFinite(n)) return undefined;
    out[k] = n;
  }
  return out;
}

/** Events: 'observing' (name, endpoint) once a device answered the Observe and is observed. */
export class Lwm2mObservations extends EventEmitter {
  private readonly deps: ObservationDeps;
  /** `${spec}\0${device}` → cancel of the live observation */
  private readonly live = new Map<string, () => void>();
  /** a device that notifies or sends without pause must not fill the gateway's alert queue: a token bucket each */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** notifications and Sends received, and of them dropped by the per-device limit */
  received = 0;
  dropped = 0;

  constructor(deps: ObservationDeps) {
    super();
    this.deps = deps;
    deps.server.on('registered', (reg: Registration) => void this.establishAll(reg.endpoint));
    deps.server.on('deregistered', (reg: Registration) => this.buckets.delete(reg.endpoint));
    deps.server.on('expired', (reg: Registration) => this.buckets.delete(reg.endpoint));
    deps.server.on('send', (reg: Registration, a: CoapAnswer) => this.forward(SEND_ALERT, reg.endpoint, { objectId: -1 }, a));
  }

  list(): ObservationSpec[] {
    const text = this.deps.store.getConfig(OBSERVATIONS_KEY);
    return text ? (JSON.parse(text) as ObservationSpec[]) : [];
  }

  get(name: string): ObservationSpec | undefined {
    return this.list().find((s) => s.name === name);
  }

  /** Keeps the spec (replacing one of the same name, whose live observations end). */
  put(spec: ObservationSpec): void {
    this.cancelLive(spec.name);
    this.deps.store.setConfig(OBSERVATIONS_KEY, JSON.stringify([...this.list().filter((s) => s.name !== spec.name), spec]));
  }

  /** Sets a kept spec on its devices registered now; per device the CoAP code (or why not). */
  async start(name: string): Promise<Record<string, string>> {
    const spec = this.get(name);
    const out: Record<string, string> = {};
    if (!spec) return out;
    // a few hundred exchanges at a time: 10,000 Observes at once overflow the socket's buffers and
    // time out (each device is tried once here; the others when they register again)
    const devices = this.devicesOf(spec);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < devices.length) {
        const d = devices[next++]!;
        out[d] = await this.establish(spec, d);
      }
    };
    await Promise.all(Array.from({ length: Math.min(START_AT_ONCE, devices.length) }, worker));
    return out;
  }

  devicesOf(spec: ObservationSpec): string[] {
    const members = (spec.groups ?? []).flatMap((g) => this.deps.store.getGroup(g)?.members.map((m) => m.deviceId) ?? []);
    return [...new Set([...spec.devices, ...members])];
  }

  /** How many devices the spec is observed on now. */
  active(name: string): number {
    let n = 0;
    for (const key of this.live.keys()) if (key.startsWith(`${name}\0`)) n++;
    return n;
  }

  /** Cancels it on every device and forgets it. */
  remove(name: string): boolean {
    if (!this.get(name)) return false;
    this.cancelLive(name);
    this.deps.store.setConfig(OBSERVATIONS_KEY, JSON.stringify(this.list().filter((s) => s.name !== name)));
    return true;
  }

  private cancelLive(name: string): void {
    for (const [key, cancel] of [...this.live]) {
      if (!key.startsWith(`${name}\0`)) continue;
      cancel();
      this.live.delete(key);
    }
  }

  /** A device (re-)registered: what is kept for it is set again (its old observations died with the registration). */
  private async establishAll(endpoint: string): Promise<void> {
    for (const spec of this.list()) if (this.devicesOf(spec).includes(endpoint)) await this.establish(spec, endpoint);
  }

  private async establish(spec: ObservationSpec, endpoint: string): Promise<string> {
    const key = `${spec.name}\0${endpoint}`;
    this.live.get(key)?.();
    this.live.delete(key);
    const path = lwm2mPath(spec.path);
    if (!path) return '4.04';
    const reg = this.deps.server.registration(endpoint);
    if (!reg) return 'not registered';
    try {
      if (Object.keys(spec.attributes).length > 0) {
        const w = await this.deps.server.writeAttributes(endpoint, path, spec.attributes);
        if (!w.code.startsWith('2.')) return this.refused(spec, endpoint, 'Write-Attributes', w.code);
      }
      // in a format the device speaks, as a Read (text for one resource): a 1.0 client knows no SenML
      const { a: observed } = await inDeviceFormats(reg.formats, path, async (f) => {
        const o = await this.deps.server.observe(endpoint, path, (a) => this.forward(NOTIFY_ALERT, endpoint, path, a), f);
        return { code: o.first.code, ...o };
      });
      const { first, cancel } = observed;
      if (!first.code.startsWith('2.')) return this.refused(spec, endpoint, 'Observe', first.code);
      if (!this.get(spec.name)) {
        cancel(); // removed while it was being set
        return first.code;
      }
      this.live.set(key, cancel);
      this.emit('observing', spec.name, endpoint);
      // the value at the start is the first notification: the server sees where it starts from
      this.forward(NOTIFY_ALERT, endpoint, path, first);
      return first.code;
    } catch (err) {
      this.deps.log?.('lwm2m.observe.error', { endpoint, path: spec.path, error: String(err) });
      return 'no answer';
    }
  }

  /** the Start answered long ago: a device that refuses is said in the log, or nobody learns why nothing comes */
  private refused(spec: ObservationSpec, endpoint: string, request: string, code: string): string {
    this.deps.log?.('lwm2m.observe.refused', { name: spec.name, endpoint, path: spec.path, request, code });
    return code;
  }

  private allowed(endpoint: string): boolean {
    const { perSecond, burst } = this.deps.rate ?? { perSecond: 20, burst: 200 };
    const now = this.deps.now?.() ?? Date.now();
    const b = this.buckets.get(endpoint) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    this.buckets.set(endpoint, b);
    if (b.tokens < 1) return false;
    b.tokens--;
    return true;
  }

  /** Data: the values as SenML JSON (n = LwM2M path, typed v/vs/vb), whatever format the device used. */
  private forward(type: string, endpoint: string, path: Path, a: CoapAnswer): void {
    this.received++;
    if (!this.allowed(endpoint)) {
      if (this.dropped++ % 1000 === 0) this.deps.log?.('lwm2m.notify.dropped', { endpoint, dropped: this.dropped });
      return;
    }
    let data: string;
    try {
      const values = decodePayload(a.format ?? ContentFormat.SenmlJson, a.payload, path.objectId < 0 ? { objectId: 0 } : path);
      data = Buffer.from(encodePayload(ContentFormat.SenmlJson, values)).toString('utf8');
    } catch (err) {
      this.deps.log?.('lwm2m.notify.undecodable', { endpoint, path: path.objectId < 0 ? '/dp' : pathText(path), error: String(err) });
      return;
    }
    this.deps.alert({ type, source: deviceUri(endpoint), format: 'chr', data });
  }
}
