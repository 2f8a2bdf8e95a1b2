// One southbound abstraction: every end device behind the gateway, whatever its protocol or mode,
// is driven through this (DESIGN.md "One southbound abstraction"). Fanout, inventory and groups use
// it only; proxy mode (DM) and adaptation mode (lwm2m/) implement it.
type ItemData = string | Uint8Array;

/** A DM command for one device, its URIs relative to the device's root (./DevInfo/Mod, ./3/0/0). */
export interface DriverCommand {
  readonly kind: 'Get' | 'Replace' | 'Add' | 'Delete' | 'Exec' | 'Copy';
  readonly target: string;
  readonly source?: string;
  readonly data?: ItemData;
  readonly format?: string;
  readonly type?: string;
}

/** The device's answer to one command, as a DM status (and the value a Get returned). */
export interface DriverResult {
  readonly status: number;
  readonly data?: ItemData;
  readonly format?: string;
  /** sent, no Status came, not safe to send twice (an Add, Exec, Copy): status is 408 and it was not retried */
  readonly inDoubt?: true;
}

export interface DriverContext {
  /** a stable key for this job and device: a driver that persists work names it after this */
  readonly key: string;
  readonly timeoutMs: number;
  readonly retries: number;
  cancelled(): boolean;
}

/** What a driver reports about its devices: first contact and every contact after, and leaving. */
export interface DriverEvents {
  seen(
    deviceId: string,
    sighting: { protocol: string; info: Readonly<Record<string, string>>; localAddress?: string; dmClient: boolean },
  ): void;
  gone(deviceId: string): void;
}

export interface EndDeviceDriver {
  /** "OMA-DM", "LwM2M": matched against the inventory's Protocol */
  readonly protocol: string;
  /** runs the commands in order; never rejects: a device that does not answer gives 408s */
  execute(deviceId: string, commands: readonly DriverCommand[], ctx: DriverContext): Promise<DriverResult[]>;
}
