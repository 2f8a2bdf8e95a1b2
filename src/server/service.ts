// What the server can be asked to do (by the REST API, the CLI, tests): accounts, operations,
// notifications. Input is checked here, once, with errors that say what is wrong.
import { randomInt, randomUUID } from 'node:crypto';

import { AuthScheme, encodeNotification, isBinaryFormat, type ItemData, RESYNC_NONCE, type UiMode } from '../protocol/index.ts';
import type { Clock } from '../session/clock.ts';
import { parseUri } from '../tree/index.ts';
import type { AlertQuery, AlertRow, DeviceRow, OperationRow, OperationState, ServerStore, SessionProfileRow } from '../store/server.ts';
import { AlertFeed } from './alert-feed.ts';
import { NotifyWatch } from './notify-watch.ts';
import { identifierProblem, UNPRINTABLE } from './identifiers.ts';
import { profilePatch, sessionProfile, serverNonce } from './session-profile.ts';

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
  /** base64 of the nonce the device holds for the server's Cred ("" = the empty nonce) */
  readonly serverNonce?: string;
  readonly sessionProfile?: unknown;
}

export interface DevicePatch {
  readonly scheme?: 'basic' | 'md5' | 'hmac';
  readonly name?: string;
  readonly password?: string;
  readonly serverName?: string | null;
  readonly serverPassword?: string | null;
  readonly notifyAddress?: string | null;
  readonly serverNonce?: string | null;
  readonly sessionProfile?: unknown;
}

const PATCHABLE = ['name', 'password', 'scheme', 'serverName', 'serverPassword', 'notifyAddress', 'serverNonce', 'sessionProfile'] as const;

export interface NewOperation {
  readonly kind: OperationRow['kind'];
  readonly path: string;
  readonly value?: string;
  readonly format?: string;
  readonly type?: string;
  readonly source?: string;
  readonly correlator?: string;
  /** "always": sent again when no Status came back, even an Add, Exec or Copy; "never" (default): in doubt then */
  readonly retry?: 'always' | 'never';
}

const SCHEMES = { basic: AuthScheme.Basic, md5: AuthScheme.Md5, hmac: AuthScheme.Hmac } as const;
const KINDS = new Set(['Get', 'Replace', 'Add', 'Delete', 'Exec', 'Copy']);
const STATES: ReadonlySet<string> = new Set<OperationState>(['queued', 'sent', 'done', 'failed', 'accepted', 'indoubt']);
const MAX_URI = 1024;
const FORMATS = new Set(['b64', 'bin', 'bool', 'chr', 'int', 'node', 'null', 'xml', 'date', 'time', 'float']);

export interface NotificationSender {
  send(bytes: Uint8Array, host: string, port: number): Promise<void>;
}

export class ServerService {
  private readonly store: ServerStore;
  private readonly clock: Clock;
  readonly serverId: string;
  private readonly notifier: NotificationSender | undefined;

  private readonly waiters = new Map<string, Set<(op: OperationRow) => void>>();
  /** alerts as they are stored (the server role publishes them) */
  readonly alertFeed = new AlertFeed();
  /** devices that let a Package#0 go unanswered (the resync nonce brings them back) */
  readonly notifyWatch: NotifyWatch;

  constructor(store: ServerStore, clock: Clock, serverId: string, notifier?: NotificationSender, resyncAfterMs = 5_000) {
    this.store = store;
    this.clock = clock;
    this.serverId = serverId;
    this.notifier = notifier;
    this.notifyWatch = new NotifyWatch(resyncAfterMs);
  }

  /** Told by the server role whenever an operation changes state. */
  operationChanged(op: OperationRow): void {
    for (const w of this.waiters.get(op.id) ?? []) w(op);
  }

  /**
   * Waits until every operation has an outcome (done, failed, or accepted for later; with `final`,
   * an accepted Exec waits for its Generic Alert), at most `timeoutMs`; returns them as they are then.
   */
  async settle(ids: readonly string[], timeoutMs: number, final = false): Promise<OperationRow[]> {
    // the last state seen of each: with a short retention, one finished early can be pruned while the
    // wait goes on for the others (the soak's 3 s, a loaded machine), and its outcome is still the answer
    const seen = new Map<string, OperationRow>();
    const keep = (op: OperationRow | undefined): void => {
      if (op && (seen.get(op.id)?.updatedAt ?? -Infinity) <= op.updatedAt) seen.set(op.id, op);
    };
    const open = (op: OperationRow | undefined): boolean =>
      op?.state === 'queued' || op?.state === 'sent' || (final && op?.state === 'accepted');
    if (timeoutMs > 0) {
      // each change looks at its own operation only: a run of n operations costs n reads, not n² (bench images)
      const ended = new Set<string>();
      let pending: Set<string> | undefined;
      let wake = (): void => {};
      const check = (op: OperationRow): void => {
        keep(op);
        if (open(op)) return;
        ended.add(op.id);
        if (pending?.delete(op.id) && pending.size === 0) wake();
      };
      for (const id of ids) {
        if (!this.waiters.has(id)) this.waiters.set(id, new Set());
        this.waiters.get(id)!.add(check);
      }
      try {
        // registered before the first look: a change while it runs is not missed
        const first = await Promise.all(ids.map((id) => this.store.getOperation(id)));
        first.forEach(keep);
        // one gone is not open: retention prunes finished operations only
        pending = new Set(ids.filter((id, i) => open(first[i]) && !ended.has(id)));
        if (pending.size > 0)
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, timeoutMs);
            wake = () => (clearTimeout(timer), resolve());
          });
      } finally {
        for (const id of ids) {
          const set = this.waiters.get(id);
          set?.delete(check);
          if (set?.size === 0) this.waiters.delete(id);
        }
      }
    }
    (await Promise.all(ids.map((id) => this.store.getOperation(id)))).forEach(keep);
    // each was read here at its first look (or now, with no wait): retention deletes finished ones only
    return ids.map((id) => seen.get(id)!);
  }

  /** Creates the account; 409 when the id has one (an account is changed with updateDevice). */
  async addDevice(input: NewDevice): Promise<DeviceRow> {
    const { device, created } = await this.ensureDevice(input);
    if (!created) throw new ServiceError(409, `device "${input.deviceId}" already has an account; change it with PATCH /api/devices/{id}`);
    return device;
  }

  /** Creates the account unless the id has one, which is kept as it is (a demo or a test starting again). */
  async ensureDevice(input: NewDevice): Promise<{ device: DeviceRow; created: boolean }> {
    requireIdentifier(input.deviceId, 'deviceId');
    if (!input.name || !input.password)
      throw new ServiceError(400, 'name and password (the credentials the device authenticates with) are required');
    requireIdentifier(input.name, 'name', 'name');
    const scheme = SCHEMES[input.scheme ?? 'md5'];
    if (scheme === undefined) throw new ServiceError(400, `scheme must be basic, md5 or hmac, not "${input.scheme}"`);
    if ((input.serverName === undefined) !== (input.serverPassword === undefined)) {
      throw new ServiceError(400, 'serverName and serverPassword go together (the credentials the server proves itself with)');
    }
    if (input.serverName !== undefined) requireIdentifier(input.serverName, 'serverName', 'name');
    if (input.notifyAddress !== undefined) parseAddress(input.notifyAddress);
    const profile: SessionProfileRow | undefined = input.sessionProfile === undefined ? undefined : sessionProfile(input.sessionProfile);
    const row: DeviceRow = {
      deviceId: input.deviceId,
      scheme,
      clientName: input.name,
      clientPassword: input.password,
      ...(input.serverName !== undefined ? { serverName: input.serverName, serverPassword: input.serverPassword! } : {}),
      ...(input.notifyAddress !== undefined ? { notifyAddress: input.notifyAddress } : {}),
      ...(input.serverNonce !== undefined ? { serverNonce: serverNonce(input.serverNonce) } : {}),
      ...(profile ? { sessionProfile: profile } : {}),
      devInfo: {},
      createdAt: this.clock.now(),
    };
    // one statement decides: two creates racing for an id cannot both win
    const created = await this.store.insertDevice(row);
    return { device: (await this.store.getDevice(input.deviceId))!, created };
  }

  /**
   * Changes only the fields given; null clears serverName with serverPassword, or notifyAddress.
   * Returns the account and the names of the fields changed (for the audit log: never their values).
   */
  async updateDevice(deviceId: string, patch: DevicePatch): Promise<{ device: DeviceRow; changed: string[] }> {
    const changed = Object.keys(patch).filter((k) => patch[k as keyof DevicePatch] !== undefined);
    if (changed.length === 0) throw new ServiceError(400, `give at least one of ${PATCHABLE.join(', ')}`);
    const unknown = changed.filter((k) => !(PATCHABLE as readonly string[]).includes(k));
    if (unknown.length > 0) throw new ServiceError(400, `${unknown.join(', ')} cannot be changed; the fields are ${PATCHABLE.join(', ')}`);
    if (patch.name !== undefined) requireIdentifier(patch.name, 'name', 'name');
    if (patch.password !== undefined && patch.password === '') throw new ServiceError(400, 'password must not be empty');
    const scheme = patch.scheme === undefined ? undefined : SCHEMES[patch.scheme];
    if (patch.scheme !== undefined && scheme === undefined)
      throw new ServiceError(400, `scheme must be basic, md5 or hmac, not "${patch.scheme}"`);
    if ((patch.serverName === null) !== (patch.serverPassword === null)) {
      throw new ServiceError(400, 'serverName and serverPassword are cleared together (null for both)');
    }
    if (typeof patch.serverName === 'string') requireIdentifier(patch.serverName, 'serverName', 'name');
    if (patch.serverPassword === '') throw new ServiceError(400, 'serverPassword must not be empty');
    if (typeof patch.notifyAddress === 'string') parseAddress(patch.notifyAddress);
    const nonce = typeof patch.serverNonce === 'string' ? serverNonce(patch.serverNonce) : patch.serverNonce;
    const before = await this.device(deviceId);
    const profile = patch.sessionProfile === undefined ? undefined : profilePatch(before.sessionProfile, patch.sessionProfile);
    const serverName = patch.serverName === undefined ? before.serverName : (patch.serverName ?? undefined);
    const serverPassword = patch.serverPassword === undefined ? before.serverPassword : (patch.serverPassword ?? undefined);
    // a half-set pair cannot sign a Package#0
    if ((serverName === undefined) !== (serverPassword === undefined))
      throw new ServiceError(400, 'serverName and serverPassword go together: give both');
    const device = await this.store.changeAccount(deviceId, {
      ...(scheme !== undefined ? { scheme } : {}),
      ...(patch.name !== undefined ? { clientName: patch.name } : {}),
      ...(patch.password !== undefined ? { clientPassword: patch.password } : {}),
      ...(patch.serverName !== undefined ? { serverName: patch.serverName } : {}),
      ...(patch.serverPassword !== undefined ? { serverPassword: patch.serverPassword } : {}),
      ...(patch.notifyAddress !== undefined ? { notifyAddress: patch.notifyAddress } : {}),
      ...(nonce !== undefined ? { serverNonce: nonce } : {}),
      ...(profile !== undefined ? { sessionProfile: profile } : {}),
    });
    if (!device) throw new ServiceError(404, `no device "${deviceId}"`);
    return { device, changed };
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
    checkOperation(input);
    let data: ItemData | undefined = input.value;
    // binary values travel in JSON as base64
    if (data !== undefined && input.format !== undefined && isBinaryFormat(input.format))
      data = new Uint8Array(Buffer.from(data, 'base64'));
    return this.store.queueOperation(
      {
        id: randomUUID(),
        deviceId,
        kind: input.kind,
        target: input.path,
        ...(input.source ? { source: input.source } : {}),
        ...(data !== undefined ? { data } : {}),
        ...(input.format ? { format: input.format } : {}),
        ...(input.type ? { type: input.type } : {}),
        ...(input.correlator ? { correlator: input.correlator } : input.kind === 'Exec' ? { correlator: randomUUID() } : {}),
        ...(input.retry === 'always' ? { retry: 'always' as const } : {}),
      },
      this.clock.now(),
    );
  }

  /** An operation in doubt, decided by someone who knows: sent again, or ended as failed or done. */
  async resolve(id: string, resolution: unknown, why = ''): Promise<OperationRow> {
    if (resolution !== 'retry' && resolution !== 'failed' && resolution !== 'done')
      throw new ServiceError(400, `resolution must be retry, failed or done, not ${JSON.stringify(resolution)}`);
    if (why.length > 500) throw new ServiceError(400, 'reason must have at most 500 characters');
    const op = await this.operation(id);
    const what = resolution === 'retry' ? 'queued again' : `marked ${resolution}`;
    const note = `${what} by request${why ? `: ${why}` : ''} (it was in doubt: ${op.note ?? 'no status received'})`;
    const resolved = await this.store.resolveOperation(id, resolution, this.clock.now(), note);
    if (!resolved) throw new ServiceError(409, `operation "${id}" is ${op.state}, not in doubt: only an operation in doubt is resolved`);
    this.operationChanged(resolved);
    return resolved;
  }

  async operation(id: string): Promise<OperationRow> {
    const op = await this.store.getOperation(id);
    if (!op) throw new ServiceError(404, `no operation "${id}"`);
    return op;
  }

  async operations(deviceId: string, limit: number, offset: number, state?: string): Promise<OperationRow[]> {
    if (state !== undefined && !STATES.has(state)) throw new ServiceError(400, `state must be one of ${[...STATES].join(', ')}`);
    await this.device(deviceId);
    return this.store.listOperations(deviceId, { limit, offset, ...(state ? { state: state as OperationState } : {}) });
  }

  /** alerts devices sent, newest first */
  alerts(query: AlertQuery): Promise<AlertRow[]> {
    return this.store.queryAlerts(query);
  }

  /**
   * A Package#0 for the device, keyed with the server's credentials for it and the nonce it holds
   * for us, or the resync nonce when it stopped answering (`resync`: decided by the caller).
   */
  async notification(
    deviceId: string,
    uiMode: UiMode = 0,
    known?: DeviceRow,
    resync?: boolean,
  ): Promise<{ sessionId: number; bytes: Uint8Array; resync: boolean; also: Uint8Array[] }> {
    const d = known ?? (await this.device(deviceId));
    // a secret being rotated: the new one first (docs/security.md, Package#0 secrets)
    const password = d.serverPasswordNext ?? d.serverPassword;
    if (password === undefined)
      throw new ServiceError(409, `device "${deviceId}" has no serverPassword: the Package#0 digest needs the server's credentials`);
    let nonce = d.serverNonce ?? RESYNC_NONCE;
    const now = this.clock.now();
    const useResync = resync ?? this.notifyWatch.needsResync(deviceId, d.lastSeen, now);
    if (useResync && !Buffer.from(nonce).equals(RESYNC_NONCE)) {
      // stored before it goes out: the session it opens authenticates us with that nonce, on both sides
      await this.store.updateDevice(deviceId, { serverNonce: RESYNC_NONCE });
      nonce = RESYNC_NONCE;
    }
    const sessionId = randomInt(1, 0xffff); // randomInt draws from a cache, not the CSPRNG per call
    const header = { serverId: this.serverId, sessionId, uiMode, initiator: 'server' } as const;
    const bytes = encodeNotification(header, { password, nonce });
    // silent since: it may hold another secret — the old one of a rotation cut short, or the one it
    // was provisioned with if it was reset (resyncSecrets) — so one keyed with each goes too
    const others = useResync ? [d.serverPasswordNext !== undefined ? d.serverPassword : undefined, ...this.resyncSecrets] : [];
    const also = [...new Set(others)]
      .filter((p): p is string => p !== undefined && p !== password)
      .map((p) => encodeNotification(header, { password: p, nonce }));
    this.notifyWatch.sent(deviceId, useResync, now, async () => {
      const again = await this.store.getDevice(deviceId);
      if (this.notifyWatch.state(deviceId, again?.lastSeen)) await this.notify(deviceId, uiMode, true);
    });
    return { sessionId, bytes, resync: useResync, also };
  }

  /** Sends Package#0 bytes to host:port over UDP. */
  async send(bytes: Uint8Array, address: string): Promise<void> {
    if (this.notifier === undefined) throw new ServiceError(503, 'this server has no notification sender');
    const { host, port } = parseAddress(address);
    await this.notifier.send(bytes, host, port);
  }

  /**
   * Set by a gateway: server secrets a device may hold again after a reset (the shared LAN secret it
   * was provisioned with). A device that stopped answering gets its resync Package#0 keyed with each.
   */
  resyncSecrets: readonly string[] = [];

  /** Set by the server role: a device's failed DM authentications (failures in the window, lock end in ms or 0). */
  authState: ((deviceId: string) => Promise<{ failures: number; lockedUntil: number }>) | undefined;

  /** Set by the server role: clients without an inbound port poll for their notifications. */
  push: { reachable(deviceId: string): Promise<boolean>; push(deviceId: string, bytes: Uint8Array): Promise<string> } | undefined;

  /** Wakes the device with a Package#0 (its push channel if it polls, else UDP); it then opens a session (Alert 1200). */
  async notify(deviceId: string, uiMode: UiMode = 0, resync?: boolean): Promise<{ sessionId: number; bytes: number; address: string }> {
    const d = await this.device(deviceId);
    if (await this.push?.reachable(deviceId)) {
      const { sessionId, bytes, also } = await this.notification(deviceId, uiMode, d, resync);
      await this.push!.push(deviceId, bytes);
      for (const b of also) await this.push!.push(deviceId, b);
      return { sessionId, bytes: bytes.length, address: 'push channel' };
    }
    if (this.notifier === undefined) throw new ServiceError(503, 'this server has no notification sender');
    if (d.notifyAddress === undefined)
      throw new ServiceError(
        409,
        `device "${deviceId}" has no notifyAddress (host:port of its Package#0 listener) and no gateway has announced it: set one with PATCH, or name the gateway it is behind with "via"`,
      );
    const { host, port } = parseAddress(d.notifyAddress);
    const { sessionId, bytes, also } = await this.notification(deviceId, uiMode, d, resync);
    await this.notifier.send(bytes, host, port);
    for (const b of also) await this.notifier.send(b, host, port);
    return { sessionId, bytes: bytes.length, address: d.notifyAddress };
  }
}

/**
 * 400 unless `input` is an operation a device can be sent: a known kind, a DM URI as path (and as
 * Copy's source; LwM2M paths such as ./3303/0/5700 are DM URIs too), a known format, base64 for binary.
 * Used for operations, device jobs and fanout commands alike.
 */
export function checkOperation(input: unknown, at = ''): NewOperation {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new ServiceError(400, `${at}an operation is an object {"kind","path","value"?,"format"?}`);
  const o = input as Record<string, unknown>;
  for (const k of ['kind', 'path', 'value', 'format', 'type', 'source', 'correlator', 'retry']) {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw new ServiceError(400, `${at}${k} must be a string`);
  }
  const op = o as unknown as NewOperation;
  if (!KINDS.has(op.kind)) throw new ServiceError(400, `${at}kind must be one of ${[...KINDS].join(', ')}, not "${op.kind}"`);
  if (op.path === undefined || op.path === '') throw new ServiceError(400, `${at}path is required: a DM URI such as "./DevInfo/Mod"`);
  checkUri(op.path, `${at}path`);
  if (op.format !== undefined && !FORMATS.has(op.format))
    throw new ServiceError(400, `${at}format must be one of ${[...FORMATS].join(', ')}`);
  if (op.retry !== undefined && op.retry !== 'always' && op.retry !== 'never')
    throw new ServiceError(400, `${at}retry must be "always" (send again when no status came back) or "never", not "${op.retry}"`);
  if (op.kind === 'Copy' && !op.source) throw new ServiceError(400, `${at}Copy needs source: the URI copied from`);
  if (op.source !== undefined) checkUri(op.source, `${at}source`);
  if (op.kind === 'Replace' && op.value === undefined) throw new ServiceError(400, `${at}Replace needs a value`);
  if (op.value !== undefined && op.format !== undefined && isBinaryFormat(op.format) && !/^[A-Za-z0-9+/]*={0,2}$/.test(op.value)) {
    throw new ServiceError(400, `${at}value must be base64 for format ${op.format}`);
  }
  return op;
}

function checkUri(uri: string, field: string): void {
  if (uri.length > MAX_URI) throw new ServiceError(400, `${field} must have at most ${MAX_URI} characters`);
  const parsed = parseUri(uri);
  // parseUri lets non-ASCII through (UTF-8 node names): control characters are still refused
  const problem = parsed.ok ? (UNPRINTABLE.test(uri) ? 'a control or format character' : undefined) : parsed.reason;
  if (problem)
    throw new ServiceError(
      400,
      `${field} "${uri}" is not a DM URI (${problem}): relative to the device root, e.g. "./DevInfo/Mod"; no leading or trailing /, no empty, . or .. segments`,
    );
}

/** 400 naming the field and the rule when `value` is not a valid id or name (docs/access.md). */
export function requireIdentifier(value: unknown, field: string, kind: 'id' | 'name' = 'id'): string {
  const problem = identifierProblem(value, field, kind);
  if (problem) throw new ServiceError(400, problem);
  return value as string;
}

export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new ServiceError(400, `"${address}" is not host:port`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
