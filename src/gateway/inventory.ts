// The device inventory (DI-001..005): who is behind the gateway, attached or detached, in which
// mode; alerts to the server when devices arrive or leave, if the server switched them on.
import type { GatewayStore, InventoryRow } from '../store/gateway.ts';
import type { GatewayConfig } from './config.ts';
import { GwmoAlert, nodeName, xmlEscape } from './names.ts';

export const Mode = { Transparent: 1, Proxy: 2, Adaptation: 3 } as const;

export interface GatewayAlert {
  readonly type: string;
  readonly source: string;
  readonly format: 'int' | 'xml' | 'chr';
  readonly data: string;
  readonly mark?: string;
  readonly correlator?: string;
}

export interface Sighting {
  readonly protocol: string;
  readonly info?: Readonly<Record<string, string>>;
  readonly localAddress?: string;
  /** the device runs a DM client (proxy or transparent) or not (adaptation) */
  readonly dmClient: boolean;
}

export class Inventory {
  private readonly store: GatewayStore;
  private readonly config: GatewayConfig;
  private readonly alert: (a: GatewayAlert) => void;
  /** devices heard from whose row did not change but for lastSeen, not written yet */
  private readonly heard = new Map<string, number>();

  constructor(store: GatewayStore, config: GatewayConfig, alert: (a: GatewayAlert) => void) {
    this.store = store;
    this.config = config;
    this.alert = alert;
  }

  /**
   * A device was heard from; returns its row, and whether it arrived (new, or back from detached).
   * Registers it (and alerts) the first time.
   */
  seen(deviceId: string, s: Sighting, now: number): { row: InventoryRow; arrived: boolean } {
    const old = this.store.getDevice(deviceId);
    const row: InventoryRow = {
      // a device the server announced ahead (HLF-003) has no mode or first contact yet
      deviceId,
      protocol: s.protocol,
      attached: true,
      firstSeen: old?.firstSeen || now,
      lastSeen: now,
      mode: old?.mode || this.chooseMode(s),
      ...(s.localAddress ? { localAddress: s.localAddress } : old?.localAddress ? { localAddress: old.localAddress } : {}),
      info: { ...old?.info, ...s.info },
    };
    const arrived = !old || !old.attached;
    if (!arrived && sameButLastSeen(old, row)) {
      // only the time changed (every session of a known device): written with others at the next sweep
      this.heard.set(deviceId, now);
      return { row, arrived };
    }
    this.heard.delete(deviceId);
    this.store.putDevice(row);
    if (arrived && this.config.bool('InventoryAlerts/Attach')) this.alert(this.attachAlert(row));
    return { row, arrived };
  }

  /** Writes the times devices were last heard from that are still held (sweep, status reads, stop). */
  flush(): void {
    if (this.heard.size === 0) return;
    this.store.touchDevices(this.heard);
    this.heard.clear();
  }

  /** The device left (LwM2M De-register, lifetime expired): detached now. */
  detach(deviceId: string): InventoryRow | undefined {
    this.flush();
    const d = this.store.getDevice(deviceId);
    if (!d || !d.attached) return undefined;
    const row = { ...d, attached: false };
    this.store.putDevice(row);
    if (this.config.bool('InventoryAlerts/Detach')) {
      this.alert({ type: GwmoAlert.DeviceDetached, source: deviceUri(d.deviceId), format: 'chr', data: d.deviceId });
    }
    return row;
  }

  /** Devices silent past DetachTimeout turn detached; returns them. */
  sweep(now: number): InventoryRow[] {
    this.flush();
    const limit = this.config.int('DetachTimeout') * 1000;
    const gone: InventoryRow[] = [];
    for (const d of this.store.listSilent(now - limit)) {
      const row = { ...d, attached: false };
      this.store.putDevice(row);
      gone.push(row);
      if (this.config.bool('InventoryAlerts/Detach')) {
        this.alert({ type: GwmoAlert.DeviceDetached, source: deviceUri(d.deviceId), format: 'chr', data: d.deviceId });
      }
    }
    return gone;
  }

  /** MOO-001: DM devices are served in proxy mode unless the server set a default or a mode. */
  private chooseMode(s: Sighting): number {
    const preset = this.config.int('DefaultMode');
    if (preset >= 1 && preset <= 3) return preset;
    return s.dmClient ? Mode.Proxy : Mode.Adaptation;
  }

  summary(): {
    total: number;
    attached: number;
    detached: number;
    byMode: Record<string, number>;
    byProtocol: Record<string, number>;
    byType: Record<string, number>;
  } {
    const all = this.store.listDevices();
    const count = (key: (d: InventoryRow) => string): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const d of all) out[key(d)] = (out[key(d)] ?? 0) + 1;
      return out;
    };
    const modeName = (m: number): string => (m === 1 ? 'Transparent' : m === 2 ? 'Proxy' : 'Adaptation');
    return {
      total: all.length,
      attached: all.filter((d) => d.attached).length,
      detached: all.filter((d) => !d.attached).length,
      byMode: { Transparent: 0, Proxy: 0, Adaptation: 0, ...count((d) => modeName(d.mode)) },
      byProtocol: count((d) => d.protocol),
      byType: count((d) => d.info['DevTyp'] ?? 'unknown'),
    };
  }

  attachAlert(d: InventoryRow): GatewayAlert {
    const attr = (name: string, v: string | undefined): string => (v ? ` ${name}="${xmlEscape(v)}"` : '');
    const data =
      `<Device${attr('DeviceID', d.deviceId)}${attr('Man', d.info['Man'])}${attr('Mod', d.info['Mod'])}` +
      `${attr('DevTyp', d.info['DevTyp'])}${attr('FwV', d.info['FwV'])}${attr('Protocol', d.protocol)} Mode="${d.mode}"/>`;
    return { type: GwmoAlert.DeviceAttached, source: deviceUri(d.deviceId), format: 'xml', data };
  }
}

function sameButLastSeen(a: InventoryRow, b: InventoryRow): boolean {
  return (
    a.protocol === b.protocol &&
    a.mode === b.mode &&
    a.attached === b.attached &&
    a.localAddress === b.localAddress &&
    a.firstSeen === b.firstSeen &&
    JSON.stringify(a.info) === JSON.stringify(b.info)
  );
}

export function deviceUri(deviceId: string): string {
  return `./GwMO/DevInventory/Devices/${nodeName(deviceId)}`;
}
