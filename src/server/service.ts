// What the server can be asked to do (by the REST API, the CLI, tests): accounts, operations,
// notifications. Input is checked here, once, with errors that say what is wrong.
import { randomInt, randomUUID } from 'node:crypto';

import { AuthScheme, encodeNotification, isBinaryFormat, type ItemData, RESYNC_NONCE, type UiMode } from '../protocol/index.ts';
import type { Clock } from '../session/clock.ts';
import type { DeviceRow, OperationRow, ServerStore } from '../store/server.ts';

export class ServiceError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ServiceError';
    this.status = status;
  }
}

export interface NewDevice {
  readonly deviceId: string;
  readonly scheme?: 'basic' | 'md5' | 'hmac';
  readonly name: string;
  readonly password: string;
  readonly serverName?: string;
  readonly serverPassword?: string;
  readonly notifyAddress?: string;
}

export interface NewOperation {
  readonly kind: OperationRow['kind'];
  readonly path: string;
  readonly value?: string;
  readonly format?: string;
  readonly type?: string;
  readonly source?: string;
  readonly correlator?: string;
}

const SCHEMES = { basic: AuthScheme.Basic, md5: AuthScheme.Md5, hmac: AuthScheme.Hmac } as const;
const KINDS = new Set(['Get', 'Replace', 'Add', 'Delete', 'Exec', 'Copy']);
const FORMATS = new Set(['b64', 'bin', 'bool', 'chr', 'int', 'node', 'null', 'xml', 'date', 'time', 'float']);

export interface NotificationSender {
  send(bytes: Uint8Array, host: string, port: number): Promise<void>;
}

export class ServerService {
  private readonly store: ServerStore;
  private readonly clock: Clock;
  readonly serverId: string;
  private readonly notifier: NotificationSender | undefined;

  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(store: ServerStore, clock: Clock, serverId: string, notifier?: NotificationSender) {
    this.store = store;
    this.clock = clock;
    this.serverId = serverId;
    this.notifier = notifier;
  }

  /** Told by the server role whenever an operation changes state. */
  operationChanged(op: OperationRow): void {
    for (const w of this.waiters.get(op.id) ?? []) w();
  }

  /**
   * Waits until every operation has an outcome (done, failed, or accepted for later), at most
   * `timeoutMs`; returns them as they are then.
   */
  async settle(ids: readonly string[], timeoutMs: number): Promise<OperationRow[]> {
    const open = async (): Promise<number> => {
      const ops = await Promise.all(ids.map((id) => this.store.getOperation(id)));
      return ops.filter((op) => op?.state === 'queued' || op?.state === 'sent').length;
    };
    if ((await open()) > 0 && timeoutMs > 0) {
      await new Promise<void>((resolve) => {
        const check = (): void => {
          void open().then((n) => {
            if (n > 0) return;
            cleanup();
            resolve();
          });
        };
        const timer = setTimeout(() => (cleanup(), resolve()), timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          for (const id of ids) this.waiters.get(id)?.delete(check);
        };
        for (const id of ids) {
          if (!this.waiters.has(id)) this.waiters.set(id, new Set());
          this.waiters.get(id)!.add(check);
        }
        check(); // a change between the first look and now has no waiter to tell
      });
      for (const id of ids) if (this.waiters.get(id)?.size === 0) this.waiters.delete(id);
    }
    return Promise.all(ids.map(async (id) => (await this.store.getOperation(id))!));
  }

  async addDevice(input: NewDevice): Promise<DeviceRow> {
    if (!input.deviceId || input.deviceId.length > 255) throw new ServiceError(400, 'deviceId is required (at most 255 characters), e.g. "IMEI:490154203237518"');
    if (!input.name || !input.password) throw new ServiceError(400, 'name and password (the credentials the device authenticates with) are required');
    const scheme = SCHEMES[input.scheme ?? 'md5'];
    if (scheme === undefined) throw new ServiceError(400, `scheme must be basic, md5 or hmac, not "${input.scheme}"`);
    if ((input.serverName === undefined) !== (input.serverPassword === undefined)) {
      throw new ServiceError(400, 'serverName and serverPassword go together (the credentials the server proves itself with)');
    }
    if (input.notifyAddress !== undefined) parseAddress(input.notifyAddress);
    const existing = await this.store.getDevice(input.deviceId);
    const row: DeviceRow = {
      deviceId: input.deviceId, scheme, clientName: input.name, clientPassword: input.password,
      ...(input.serverName !== undefined ? { serverName: input.serverName, serverPassword: input.serverPassword! } : {}),
      ...(input.notifyAddress !== undefined ? { notifyAddress: input.notifyAddress } : {}),
      devInfo: existing?.devInfo ?? {}, createdAt: existing?.createdAt ?? this.clock.now(),
    };
    await this.store.putDevice(row);
    return (await this.store.getDevice(input.deviceId))!;
  }

  async device(deviceId: string): Promise<DeviceRow> {
    const d = await this.store.getDevice(deviceId);
    if (!d) throw new ServiceError(404, `no device "${deviceId}"; list them with GET /api/devices`);
    return d;
  }

  devices(limit: number, offset: number): Promise<DeviceRow[]> {
    return this.store.listDevices({ limit, offset });
  }

  async removeDevice(deviceId: string): Promise<void> {
    if (!(await this.store.deleteDevice(deviceId))) throw new ServiceError(404, `no device "${deviceId}"`);
  }

  async queue(deviceId: string, input: NewOperation): Promise<OperationRow> {
    await this.device(deviceId);
    if (!KINDS.has(input.kind)) throw new ServiceError(400, `kind must be one of ${[...KINDS].join(', ')}, not "${input.kind}"`);
    if (typeof input.path !== 'string' || input.path === '' || input.path.length > 1024) {
      throw new ServiceError(400, 'path is required: a DM URI such as "./DevInfo/Mod"');
    }
    if (input.format !== undefined && !FORMATS.has(input.format)) throw new ServiceError(400, `format must be one of ${[...FORMATS].join(', ')}`);
    if (input.kind === 'Copy' && !input.source) throw new ServiceError(400, 'Copy needs source: the URI copied from');
    if ((input.kind === 'Replace') && input.value === undefined) throw new ServiceError(400, 'Replace needs a value');
    let data: ItemData | undefined = input.value;
    if (data !== undefined && input.format !== undefined && isBinaryFormat(input.format)) {
      // binary values travel in JSON as base64
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw new ServiceError(400, `value must be base64 for format ${input.format}`);
      data = new Uint8Array(Buffer.from(data, 'base64'));
    }
    return this.store.queueOperation({
      id: randomUUID(), deviceId, kind: input.kind, target: input.path,
      ...(input.source ? { source: input.source } : {}), ...(data !== undefined ? { data } : {}),
      ...(input.format ? { format: input.format } : {}), ...(input.type ? { type: input.type } : {}),
      ...(input.correlator ? { correlator: input.correlator } : input.kind === 'Exec' ? { correlator: randomUUID() } : {}),
    }, this.clock.now());
  }

  async operation(id: string): Promise<OperationRow> {
    const op = await this.store.getOperation(id);
    if (!op) throw new ServiceError(404, `no operation "${id}"`);
    return op;
  }

  async operations(deviceId: string, limit: number, offset: number): Promise<OperationRow[]> {
    await this.device(deviceId);
    return this.store.listOperations(deviceId, { limit, offset });
  }

  /** A Package#0 for the device, keyed with the server's credentials for it. */
  async notification(deviceId: string, uiMode: UiMode = 0, known?: DeviceRow): Promise<{ sessionId: number; bytes: Uint8Array }> {
    const d = known ?? await this.device(deviceId);
    if (d.serverPassword === undefined) throw new ServiceError(409, `device "${deviceId}" has no serverPassword: the Package#0 digest needs the server's credentials`);
    const sessionId = randomInt(1, 0xffff); // randomInt draws from a cache, not the CSPRNG per call
    const bytes = encodeNotification(
      { serverId: this.serverId, sessionId, uiMode, initiator: 'server' },
      { password: d.serverPassword, nonce: d.serverNonce ?? RESYNC_NONCE },
    );
    return { sessionId, bytes };
  }

  /** Sends Package#0 bytes to host:port over UDP. */
  async send(bytes: Uint8Array, address: string): Promise<void> {
    if (this.notifier === undefined) throw new ServiceError(503, 'this server has no notification sender');
    const { host, port } = parseAddress(address);
    await this.notifier.send(bytes, host, port);
  }

  /** Set by the server role: a device's failed DM authentications (failures in the window, lock end in ms or 0). */
  authState: ((deviceId: string) => Promise<{ failures: number; lockedUntil: number }>) | undefined;

  /** Set by the server role: clients without an inbound port poll for their notifications. */
  push: { reachable(deviceId: string): Promise<boolean>; push(deviceId: string, bytes: Uint8Array): Promise<string> } | undefined;

  /** Wakes the device with a Package#0 (its push channel if it polls, else UDP); it then opens a session (Alert 1200). */
  async notify(deviceId: string, uiMode: UiMode = 0): Promise<{ sessionId: number; bytes: number; address: string }> {
    const d = await this.device(deviceId);
    if (await this.push?.reachable(deviceId)) {
      const { sessionId, bytes } = await this.notification(deviceId, uiMode, d);
      await this.push!.push(deviceId, bytes);
      return { sessionId, bytes: bytes.length, address: 'push channel' };
    }
    if (this.notifier === undefined) throw new ServiceError(503, 'this server has no notification sender');
    if (d.notifyAddress === undefined) throw new ServiceError(409, `device "${deviceId}" has no notifyAddress (host:port of its Package#0 listener); behind a gateway, notify it "via" the gateway`);
    const { host, port } = parseAddress(d.notifyAddress);
    const { sessionId, bytes } = await this.notification(deviceId, uiMode, d);
    await this.notifier.send(bytes, host, port);
    return { sessionId, bytes: bytes.length, address: d.notifyAddress };
  }
}

export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new ServiceError(400, `"${address}" is not host:port`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
