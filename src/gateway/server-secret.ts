// Each LAN device gets a server secret of its own (its DMAcc SRVCRED AAuthSecret: the Package#0 digest
// and the gateway's Cred in its sessions), so a device cannot accept a Package#0 meant for another.
// A device that holds the shared secret (enrolled on it, or enrolled before per-device secrets) is
// rotated in a DM session: Get ./DMAcc?list=StructData finds its account for us, a Replace writes the
// new secret. Crash-safe because both secrets stay stored until the device proved the new one (its 200
// to the Replace, or a session where it accepted our Cred made with it): meanwhile sessions try the new
// one then the old one, and a Package#0 to a silent device goes keyed with each (src/server/service.ts).
import { createHash, randomBytes } from 'node:crypto';

import type { DeviceAccount, Operation } from '../session/server/index.ts';
import type { DeviceRow, OperationRow, ServerStore } from '../store/server.ts';

export const FIND_ACCOUNT = 'gwmo:server-secret:find';
export const WRITE_SECRET = 'gwmo:server-secret:write';
/** rotations a device may refuse in a row before it is left on the shared secret */
export const MAX_ROTATION_FAILURES = 3;
/** what the Replace's record holds instead of the secret (filled in as it is sent) */
const MASK = '*****';

/** a short digest of the secret: the Replace's id names it, so the record tells which secret it carries without holding it */
const tag = (secret: string): string => createHash('sha256').update(secret).digest('base64url').slice(0, 12);

/** The Replace that writes `secret` at `leaf`: its record holds a mask, its id the secret's tag. */
export function writeOperation(
  deviceId: string,
  leaf: string,
  secret: string,
  now: number,
): Omit<OperationRow, 'state' | 'createdAt' | 'updatedAt'> {
  return {
    id: `${WRITE_SECRET}:${deviceId}:${now}:${tag(secret)}`,
    deviceId,
    kind: 'Replace',
    target: leaf,
    data: MASK,
    format: 'chr',
    correlator: WRITE_SECRET,
  };
}

const carries = (op: Pick<OperationRow, 'id'>, secret: string | undefined): boolean =>
  secret !== undefined && op.id.endsWith(`:${tag(secret)}`);

export type SecretState = 'Own' | 'Shared' | 'Rotating' | 'Refused';

/** Where the device's server secret stands (./GwMO/DevInventory/Devices/<x>/ServerSecret). */
export function secretState(
  d: Pick<DeviceRow, 'serverPassword' | 'serverPasswordNext' | 'serverSecretFailures'>,
  shared: string,
): SecretState {
  if (d.serverPasswordNext !== undefined) return 'Rotating';
  if (d.serverPassword !== shared) return 'Own';
  return (d.serverSecretFailures ?? 0) >= MAX_ROTATION_FAILURES ? 'Refused' : 'Shared';
}

/**
 * The AAuthSecret leaf of the device's newest account for `serverId`, from a ?list=StructData of
 * ./DMAcc. Newest: the last the device lists (a bootstrap adds its account after the provisioned one,
 * and gwmo's client picks the last one the same way; DM leaves the order of children open).
 */
export function secretLeaf(results: readonly { uri: string; data?: unknown }[], serverId: string): string | undefined {
  const value = new Map(results.map((r) => [r.uri.replace(/^\.\//, ''), typeof r.data === 'string' ? r.data : undefined]));
  const accounts = [...value.keys()]
    .map((uri) => /^DMAcc\/([^/]+)\/ServerID$/.exec(uri)?.[1])
    .filter((id): id is string => id !== undefined && value.get(`DMAcc/${id}/ServerID`) === serverId);
  const id = accounts.pop();
  if (id === undefined) return undefined;
  for (const uri of value.keys()) {
    const m = new RegExp(`^DMAcc/${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/AppAuth/([^/]+)/AAuthLevel$`).exec(uri);
    if (m && value.get(uri) === 'SRVCRED') return `./DMAcc/${id}/AppAuth/${m[1]}/AAuthSecret`;
  }
  return undefined;
}

export class ServerSecrets {
  private readonly o: {
    readonly store: ServerStore;
    readonly serverId: string;
    /** the gateway's shared LAN server secret: a device still on it is rotated */
    readonly shared: string;
    readonly now: () => number;
    readonly log: (event: string, fields: Record<string, unknown>) => void;
  };

  constructor(o: ServerSecrets['o']) {
    this.o = o;
  }

  /** After a device authenticated: a device still on the shared secret gets its own (stored before it is sent). */
  async authenticated(deviceId: string): Promise<void> {
    const { store } = this.o;
    let d = await store.getDevice(deviceId);
    if (d === undefined || d.serverPassword !== this.o.shared) return;
    // it refused too often: left on the shared secret (its state says Refused), no Get and Replace every session
    if (d.serverPasswordNext === undefined && (d.serverSecretFailures ?? 0) >= MAX_ROTATION_FAILURES) return;
    if (d.serverPasswordNext === undefined) {
      d = await store.changeAccount(deviceId, { serverPasswordNext: randomBytes(18).toString('base64url') });
      this.o.log('server-secret.rotating', { deviceId });
    }
    if (await this.open(deviceId)) return;
    await store.queueOperation(
      {
        id: `${FIND_ACCOUNT}:${deviceId}:${this.o.now()}`,
        deviceId,
        kind: 'Get',
        target: './DMAcc?list=StructData',
        correlator: FIND_ACCOUNT,
      },
      this.o.now(),
    );
  }

  /**
   * A device that refuses its own secret may have been reset to the one it was provisioned with
   * (a factory reset, a restored backup): the shared secret is tried last. Nothing a LAN device
   * does not know already goes out (a digest of the shared secret).
   */
  withShared(account: DeviceAccount): DeviceAccount {
    const { serverAuth, serverAuthOthers = [] } = account;
    if (serverAuth === undefined || [serverAuth, ...serverAuthOthers].some((s) => s.password === this.o.shared)) return account;
    return { ...account, serverAuthOthers: [...serverAuthOthers, { name: serverAuth.name, password: this.o.shared }] };
  }

  /** The device accepted our Cred made with `password`: holding the shared secret again, it is rotated again. */
  async accepted(deviceId: string, password: string): Promise<void> {
    const d = await this.o.store.getDevice(deviceId);
    if (d === undefined || password !== this.o.shared || d.serverPassword === this.o.shared) return;
    // a rotation still open keeps its new secret: a Replace queued with it stays the one that counts
    await this.o.store.changeAccount(deviceId, { serverPassword: this.o.shared, serverSecretFailures: null });
    this.o.log('server-secret.reset', { deviceId });
    await this.authenticated(deviceId);
  }

  /** After an operation of the device finished: the next step of its rotation, if it was one. */
  async completed(deviceId: string, id: string): Promise<void> {
    const { store } = this.o;
    const op = await store.getOperation(id);
    if (op?.correlator !== FIND_ACCOUNT && op?.correlator !== WRITE_SECRET) return;
    const d = await store.getDevice(deviceId);
    const next = d?.serverPasswordNext;
    if (next === undefined) return;
    if (op.correlator === WRITE_SECRET) {
      // the device stored it (its 200 is on record now): the old secret is forgotten
      if (op.state === 'done' && carries(op, next)) {
        await store.changeAccount(deviceId, { serverPassword: next, serverPasswordNext: null, serverSecretFailures: null });
        this.o.log('server-secret.rotated', { deviceId });
      } else if (op.state === 'failed') await this.stop(deviceId, `the device answered ${op.status} to the Replace`);
      return;
    }
    const leaf = op.state === 'done' ? secretLeaf(op.results ?? [], this.o.serverId) : undefined;
    if (leaf === undefined) {
      await this.stop(deviceId, op.state === 'done' ? `no DMAcc account for ${this.o.serverId} with SRVCRED` : `Get ./DMAcc: ${op.status}`);
      return;
    }
    await store.queueOperation(writeOperation(deviceId, leaf, next, this.o.now()), this.o.now());
  }

  /**
   * The operations a session takes, the rotation's Replace given its secret: the record holds a mask,
   * the secret is read from the account as it is sent. A Replace whose secret is no longer the one
   * being rotated to (the rotation was dropped or started over) is cancelled, never sent with the mask.
   */
  async fill(deviceId: string, ops: readonly Operation[]): Promise<Operation[]> {
    if (!ops.some((op) => op.correlator === WRITE_SECRET)) return [...ops];
    const next = (await this.o.store.getDevice(deviceId))?.serverPasswordNext;
    const out: Operation[] = [];
    for (const op of ops) {
      if (op.correlator !== WRITE_SECRET) out.push(op);
      else if (carries(op, next)) out.push({ ...op, data: next! });
      else await this.o.store.cancelOperation(op.id, 410, this.o.now());
    }
    return out;
  }

  /** a rotation step queued or in flight (a restart finds it still there) */
  private async open(deviceId: string): Promise<boolean> {
    for (const state of ['queued', 'sent'] as const) {
      const ops = await this.o.store.listOperations(deviceId, { state, limit: 1000 });
      if (ops.some((op) => op.correlator === FIND_ACCOUNT || op.correlator === WRITE_SECRET)) return true;
    }
    return false;
  }

  // the device kept the shared secret (it refused the step): its next session starts over
  private async stop(deviceId: string, reason: string): Promise<void> {
    const failures = ((await this.o.store.getDevice(deviceId))?.serverSecretFailures ?? 0) + 1;
    await this.o.store.changeAccount(deviceId, { serverPasswordNext: null, serverSecretFailures: failures });
    const gaveUp = failures >= MAX_ROTATION_FAILURES;
    this.o.log('server-secret.failed', { deviceId, reason, failures, ...(gaveUp ? { outcome: 'gave-up' } : {}) });
  }
}
