// Each LAN device gets a server secret of its own (its DMAcc SRVCRED AAuthSecret: the Package#0 digest
// and the gateway's Cred in its sessions), so a device cannot accept a Package#0 meant for another.
// A device that holds the shared secret (enrolled on it, or enrolled before per-device secrets) is
// rotated in a DM session: Get ./DMAcc?list=StructData finds its account for us, a Replace writes the
// new secret. Crash-safe because both secrets stay stored until the device proved the new one (its 200
// to the Replace, or a session where it accepted our Cred made with it): meanwhile sessions try the new
// one then the old one, and a Package#0 to a silent device goes keyed with each (src/server/service.ts).
import { randomBytes } from 'node:crypto';

import type { DeviceAccount } from '../session/server/index.ts';
import type { ServerStore } from '../store/server.ts';

export const FIND_ACCOUNT = 'gwmo:server-secret:find';
export const WRITE_SECRET = 'gwmo:server-secret:write';

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
    await this.o.store.changeAccount(deviceId, { serverPassword: this.o.shared });
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
      if (op.state === 'done' && op.data === next) {
        await store.changeAccount(deviceId, { serverPassword: next, serverPasswordNext: null });
        this.o.log('server-secret.rotated', { deviceId });
      } else if (op.state === 'failed') await this.stop(deviceId, `the device answered ${op.status} to the Replace`);
      return;
    }
    const leaf = op.state === 'done' ? secretLeaf(op.results ?? [], this.o.serverId) : undefined;
    if (leaf === undefined) {
      await this.stop(deviceId, op.state === 'done' ? `no DMAcc account for ${this.o.serverId} with SRVCRED` : `Get ./DMAcc: ${op.status}`);
      return;
    }
    await store.queueOperation(
      {
        id: `${WRITE_SECRET}:${deviceId}:${this.o.now()}`,
        deviceId,
        kind: 'Replace',
        target: leaf,
        data: next,
        format: 'chr',
        correlator: WRITE_SECRET,
      },
      this.o.now(),
    );
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
    await this.o.store.changeAccount(deviceId, { serverPasswordNext: null });
    this.o.log('server-secret.failed', { deviceId, reason });
  }
}
