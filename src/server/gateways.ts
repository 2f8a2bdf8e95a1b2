// The server's side of GwMO: gateways are DM clients whose trees carry the GwMO objects; every
// question or order below becomes DM operations on those objects, carried out in a session with the
// gateway (woken with Package#0), never through a side channel.
import { randomUUID } from 'node:crypto';

import { encodeFragment, type Command, type ItemData } from '../protocol/index.ts';
import type { DeviceRow, OperationRow, ServerStore } from '../store/server.ts';
import type { Campaigns } from './campaigns.ts';
import type { Distributions } from './distributions.ts';
import { type ImageRepo, LINK_TTL_MS } from './images.ts';
import { CREDENTIALS_MO, credentialOperations, fingerprint, type Lwm2mCredentialRequest, p256Spki } from './lwm2m-credentials.ts';
import { latestObserved, type ObservationRequest, observationOperations, type ObservedValue } from './observations.ts';
import { checkOperation, type NewOperation, requireIdentifier, type ServerService, ServiceError } from './service.ts';

const INV = './GwMO/DevInventory';
const FANOUT = './GwMO/Fanout';
const NAME = /^[A-Za-z0-9\-_.!~*'():@&=+$,]+$/;

/** Node name of a DeviceID in the gateway's inventory (the gateway escapes the same way). */
export function nodeName(id: string): string {
  return [...id]
    .map((ch) =>
      /[A-Za-z0-9\-_.!~*'():@&=+$,]/.test(ch)
        ? ch
        : [...Buffer.from(ch)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
    )
    .join('');
}

export type Tree = { [name: string]: Tree | string };

/** ?list=StructData results as nested objects below `prefix`. */
export function structData(op: OperationRow, prefix: string): Tree {
  // the node names come from the gateway: a malformed escape stays as sent, and the objects have no
  // prototype, so a node named __proto__ is a node, not a way into Object.prototype
  const node = (): Tree => Object.create(null) as Tree;
  const name = (p: string): string => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  };
  const root = node();
  for (const r of op.results ?? []) {
    if (!r.uri.startsWith(`${prefix}/`)) continue;
    const parts = r.uri
      .slice(prefix.length + 1)
      .split('/')
      .map(name);
    let at = root;
    for (const p of parts.slice(0, -1)) {
      const next = at[p];
      at = typeof next === 'object' ? next : (at[p] = node());
    }
    const last = parts[parts.length - 1]!;
    if (r.format === 'node') at[last] ??= node();
    else at[last] = typeof r.data === 'string' ? r.data : r.data ? Buffer.from(r.data).toString('base64') : '';
  }
  return root;
}

export interface FanoutSpec {
  readonly name?: string;
  readonly devices?: readonly string[];
  readonly groups?: readonly string[];
  readonly commands: readonly NewOperation[];
  readonly timeout?: number;
  readonly retries?: number;
  readonly concurrency?: number;
}

export interface Outcome<T> {
  /** false: the gateway did not answer within the wait; the operations stay queued */
  readonly done: boolean;
  readonly value?: T;
  readonly operations: readonly OperationRow[];
}

export class GatewayService {
  readonly service: ServerService;
  private readonly store: ServerStore;
  readonly images: ImageRepo | undefined;
  /** the server's URL without /dm, for the image URLs it hands out */
  publicBase = '';
  /** images installed by devices through FUMO, SCOMO or object 5 (set by the DM server) */
  distributions: Distributions | undefined;
  /** staged rollouts over distributions (set by the DM server) */
  campaigns: Campaigns | undefined;

  constructor(service: ServerService, store: ServerStore, images?: ImageRepo) {
    this.service = service;
    this.store = store;
    this.images = images;
  }

  /** Stages an uploaded image on a gateway: it fetches it once, checks it, keeps it for its LAN. */
  async stageImage(
    id: string,
    spec: { image: string; name?: string },
    waitMs: number,
  ): Promise<Outcome<{ name: string; correlator: string }>> {
    const image = await this.images?.get(spec.image);
    if (!image) throw new ServiceError(404, `no image "${spec.image}" on this server; upload it with POST /api/images`);
    const name = spec.name ?? `${image.name}-${image.version}`.replace(/[^A-Za-z0-9\-_.]/g, '_');
    if (!NAME.test(name)) throw new ServiceError(400, `image name "${name}" is not a node name`);
    await this.gateway(id);
    const base = `./GwMO/Images/${name}`;
    const correlator = randomUUID();
    // in use from now: the gateway may fetch it as soon as it sees the operations
    await this.images!.staged(image.id, id, name);
    const r = await this.run(
      id,
      [
        { kind: 'Add', path: base, format: 'node' },
        { kind: 'Replace', path: `${base}/ImageID`, value: image.id },
        { kind: 'Replace', path: `${base}/Version`, value: image.version || '-' },
        { kind: 'Replace', path: `${base}/ContentType`, value: image.contentType },
        { kind: 'Replace', path: `${base}/Size`, value: String(image.size) },
        { kind: 'Replace', path: `${base}/Hash`, value: `sha256:${image.sha256}` },
        { kind: 'Replace', path: `${base}/DownloadURL`, value: await this.imageLink(image.id) },
        { kind: 'Exec', path: `${base}/Operations/Download`, correlator },
      ],
      waitMs,
    );
    const start = r.operations[r.operations.length - 1]!;
    if (r.done && start.status !== 202 && start.status !== 200) await this.images!.unstaged(id, name);
    return { ...r, value: { name, correlator } };
  }

  /**
   * Stops a staging on a gateway (a download under way, or one a crash left downloading); staging the
   * same name again retries it. The gateway's answer: 200 cancelled, 404 no such entry, 405 stored.
   */
  async cancelStaging(id: string, name: string, waitMs: number): Promise<Outcome<{ status: number }>> {
    if (!NAME.test(name)) throw new ServiceError(400, `image name "${name}" is not a node name`);
    const r = await this.run(id, [{ kind: 'Exec', path: `./GwMO/Images/${name}/Operations/Cancel` }], waitMs);
    const status = r.operations[0]!.status ?? 0;
    if (r.done && status === 200) await this.images?.unstaged(id, name);
    return { ...r, value: { status } };
  }

  /** A link to one of our images that works without credentials until it expires (LINK_TTL_MS). */
  private async imageLink(imageId: string): Promise<string> {
    return `${this.publicBase}/images/${imageId}?token=${await this.images!.linkToken(imageId, Date.now() + LINK_TTL_MS)}`;
  }

  /** A link to our own image (a gateway that does not store it hands it on) is given a fresh expiry. */
  private async refreshed(url: string): Promise<string> {
    const m = /^\/images\/([^/?]+)$/.exec(
      url.startsWith(`${this.publicBase}/images/`) ? url.slice(this.publicBase.length).split('?')[0]! : '',
    );
    return m && this.images ? this.imageLink(m[1]!) : url;
  }

  async gatewayImages(id: string, waitMs: number): Promise<Outcome<Tree>> {
    const r = await this.run(id, [{ kind: 'Get', path: './GwMO/Images?list=StructData' }], waitMs);
    return r.done ? { ...r, value: structData(r.operations[0]!, './GwMO/Images') } : r;
  }

  /** Where devices fetch an image the gateway holds (its LAN store, or this server when storage is off there), and its hash. */
  async imageOnGateway(id: string, image: string, waitMs: number): Promise<{ url: string; hash: string; version: string }> {
    if (!NAME.test(image)) throw new ServiceError(400, `image name "${image}" is not a node name`);
    const base = `./GwMO/Images/${image}`;
    const info = await this.run(id, [{ kind: 'Get', path: `${base}?list=StructData` }], waitMs);
    if (!info.done) throw new ServiceError(504, `gateway ${id} did not answer within the wait; try again`);
    const op = info.operations[0]!;
    if (op.status === 404) throw new ServiceError(404, `gateway ${id} has no image "${image}"; stage it first`);
    const entry = structData(op, base);
    const url = typeof entry['LocalURL'] === 'string' ? await this.refreshed(entry['LocalURL']) : '';
    if (url === '')
      throw new ServiceError(
        409,
        `image "${image}" is not ready on gateway ${id} (State ${String(entry['State'])}${entry['Error'] ? `: ${String(entry['Error'])}` : ''})`,
      );
    const hash = typeof entry['Hash'] === 'string' ? entry['Hash'] : '';
    return { url, hash, version: typeof entry['Version'] === 'string' && entry['Version'] !== '-' ? entry['Version'] : '' };
  }

  /** fanouts started on the gateway whose end it has not reported yet (their Start Exec answered 202) */
  async fanoutsRunning(id: string, limit = 100): Promise<{ name: string; since: number }[]> {
    const start = /^\.\/GwMO\/Fanout\/([^/]+)\/Operations\/Start$/;
    return (await this.store.listAccepted(id, limit)).flatMap((o) => {
      const m = start.exec(o.target);
      return m ? [{ name: m[1]!, since: o.createdAt }] : [];
    });
  }

  async list(): Promise<DeviceRow[]> {
    return (await this.store.listDevices()).filter((d) => d.devInfo['Ext/GwMO'] !== undefined);
  }

  async gateway(id: string): Promise<DeviceRow> {
    const d = await this.service.device(id);
    if (d.devInfo['Ext/GwMO'] === undefined)
      throw new ServiceError(404, `"${id}" is not a GwMO gateway (it has not reported DevInfo/Ext/GwMO)`);
    return d;
  }

  /** Queues the operations on the gateway, wakes it, and waits up to `waitMs` for the outcome. */
  async run(id: string, ops: readonly NewOperation[], waitMs: number): Promise<Outcome<never>> {
    await this.gateway(id);
    const queued: OperationRow[] = [];
    for (const o of ops) queued.push(await this.service.queue(id, o));
    try {
      await this.service.notify(id);
    } catch {
      // not reachable by Package#0: the gateway's next check-in carries the operations
    }
    const operations = await this.service.settle(
      queued.map((q) => q.id),
      waitMs,
    );
    return { done: operations.every((o) => o.state !== 'queued' && o.state !== 'sent'), operations };
  }

  /**
   * Transparent mode: a Package#0 for a device behind the gateway (built with the device's own
   * account at this server) goes into the gateway's EDTrigger MO, which forwards it on its LAN;
   * the device then opens its session with this server.
   */
  async notifyVia(
    gatewayId: string,
    deviceId: string,
    uiMode: 0 | 1 | 2 | 3,
    waitMs: number,
  ): Promise<Outcome<{ sessionId: number; status: number }>> {
    const { sessionId, bytes } = await this.service.notification(deviceId, uiMode);
    const base = `./GwMO/EDTrigger/n${sessionId.toString(16)}${randomUUID().slice(0, 6)}`;
    const r = await this.run(
      gatewayId,
      [
        { kind: 'Add', path: base, format: 'node' },
        { kind: 'Replace', path: `${base}/DeviceID`, value: deviceId },
        { kind: 'Replace', path: `${base}/Notification`, value: Buffer.from(bytes).toString('base64'), format: 'b64' },
        { kind: 'Exec', path: `${base}/Operations/Trigger` },
      ],
      waitMs,
    );
    return { ...r, value: { sessionId, status: r.operations[r.operations.length - 1]!.status ?? 0 } };
  }

  /**
   * B.1 bypass: a device behind the gateway with a routable address is notified directly, at the
   * address the gateway's inventory shows for it.
   */
  async notifyBypass(
    gatewayId: string,
    deviceId: string,
    uiMode: 0 | 1 | 2 | 3,
    waitMs: number,
  ): Promise<{ sessionId: number; address: string }> {
    const r = await this.run(gatewayId, [{ kind: 'Get', path: `${INV}/Devices/${nodeName(deviceId)}/PublicAddress` }], waitMs);
    if (!r.done) throw new ServiceError(504, `gateway ${gatewayId} did not answer within the wait`);
    const op = r.operations[0]!;
    const address = typeof op.results?.[0]?.data === 'string' ? op.results[0].data : '';
    if (op.status !== 200 || address === '')
      throw new ServiceError(409, `gateway ${gatewayId} shows no routable address for "${deviceId}": notify it "via" the gateway instead`);
    const { sessionId, bytes } = await this.service.notification(deviceId, uiMode);
    await this.service.send(bytes, address);
    return { sessionId, address };
  }

  async inventory(id: string, waitMs: number): Promise<Outcome<{ summary: Tree; devices: Tree }>> {
    const r = await this.run(
      id,
      [
        { kind: 'Get', path: `${INV}/Summary?list=StructData` },
        { kind: 'Get', path: `${INV}/Devices?list=StructData` },
      ],
      waitMs,
    );
    if (!r.done) return r;
    const [summary, devices] = r.operations;
    return { ...r, value: { summary: structData(summary!, `${INV}/Summary`), devices: structData(devices!, `${INV}/Devices`) } };
  }

  async device(id: string, deviceId: string, waitMs: number): Promise<Outcome<Tree>> {
    const path = `${INV}/Devices/${nodeName(deviceId)}`;
    const r = await this.run(id, [{ kind: 'Get', path: `${path}?list=StructData` }], waitMs);
    const op = r.operations[0]!;
    if (r.done && op.status === 404) throw new ServiceError(404, `gateway ${id} has no device "${deviceId}"`);
    return r.done ? { ...r, value: structData(op, path) } : r;
  }

  async groups(id: string, waitMs: number): Promise<Outcome<Tree>> {
    const r = await this.run(id, [{ kind: 'Get', path: `${INV}/Groups?list=StructData` }], waitMs);
    return r.done ? { ...r, value: structData(r.operations[0]!, `${INV}/Groups`) } : r;
  }

  /** Creates or updates a group; its members become exactly `members`. */
  async putGroup(
    id: string,
    name: string,
    group: { description?: string; members: readonly string[] },
    waitMs: number,
  ): Promise<Outcome<never>> {
    if (!NAME.test(name))
      throw new ServiceError(400, `group name "${name}" may hold letters, digits and - _ . ! ~ * ' ( ) : @ & = + $ , only`);
    requireIdentifier(name, 'group name', 'name');
    group.members.forEach((m, i) => requireIdentifier(m, `members[${i}]`));
    const base = `${INV}/Groups/${name}`;
    return this.run(
      id,
      [
        { kind: 'Add', path: base, format: 'node' }, // 418 when it exists: fine
        ...(group.description !== undefined ? [{ kind: 'Replace' as const, path: `${base}/Description`, value: group.description }] : []),
        { kind: 'Delete', path: `${base}/Members` },
        ...group.members.map((m, i) => ({ kind: 'Add' as const, path: `${base}/Members/m${i + 1}`, value: m })),
      ],
      waitMs,
    );
  }

  async deleteGroup(id: string, name: string, waitMs: number): Promise<Outcome<never>> {
    return this.run(id, [{ kind: 'Delete', path: `${INV}/Groups/${name}` }], waitMs);
  }

  /** ./GwMO/Config as PUT takes it: each leaf by its path below Config, int and bool as JSON numbers and booleans */
  async config(id: string, waitMs: number): Promise<Outcome<Record<string, string | number | boolean>>> {
    const prefix = './GwMO/Config';
    const r = await this.run(id, [{ kind: 'Get', path: `${prefix}?list=StructData` }], waitMs);
    if (!r.done) return r;
    const op = r.operations[0]!;
    if (op.status !== 200) throw new ServiceError(502, `gateway ${id} answered the read of ${prefix} with DM status ${op.status}`);
    const values: Record<string, string | number | boolean> = Object.create(null);
    for (const leaf of op.results ?? []) {
      if (!leaf.uri.startsWith(`${prefix}/`) || leaf.format === 'node') continue;
      const text = typeof leaf.data === 'string' ? leaf.data : '';
      values[leaf.uri.slice(prefix.length + 1)] =
        leaf.format === 'int' && text !== '' ? Number(text) : leaf.format === 'bool' ? text === 'true' : text;
    }
    return { ...r, value: values };
  }

  async configure(id: string, values: Readonly<Record<string, string>>, waitMs: number): Promise<Outcome<never>> {
    const entries = Object.entries(values);
    if (entries.length === 0) throw new ServiceError(400, 'give at least one setting, e.g. {"Fanout/MaxConcurrency": "20"}');
    return this.run(
      id,
      entries.map(([path, value]) => ({ kind: 'Replace', path: `./GwMO/Config/${path}`, value })),
      waitMs,
    );
  }

  /** Writes the job into the gateway's Fanout MO and starts it (the gateway answers 202). */
  async startFanout(
    id: string,
    spec: FanoutSpec,
    waitMs: number,
    correlator: string = randomUUID(),
  ): Promise<Outcome<{ name: string; correlator: string }>> {
    const name = spec.name ?? `job-${randomUUID().slice(0, 8)}`;
    requireIdentifier(name, 'name', 'name');
    if (!NAME.test(name)) throw new ServiceError(400, `fanout name "${name}" is not a node name`);
    (spec.devices ?? []).forEach((d, i) => requireIdentifier(d, `devices[${i}]`));
    for (const g of spec.groups ?? [])
      if (!NAME.test(g)) throw new ServiceError(400, `group name "${g}" may hold letters, digits and - _ . ! ~ * ' ( ) : @ & = + $ , only`);
    spec.commands.forEach((c, i) => checkOperation(c, `commands[${i}]: `));
    const targets = [
      ...(spec.devices ?? []).map((d) => `${INV}/Devices/${nodeName(d)}`),
      ...(spec.groups ?? []).map((g) => `${INV}/Groups/${g}`),
    ];
    if (targets.length === 0) throw new ServiceError(400, 'a fanout needs targets: "devices": [...] and/or "groups": [...]');
    if (spec.commands.length === 0) throw new ServiceError(400, 'a fanout needs commands: [{"kind":"Get","path":"./DevInfo/Mod"}, …]');
    const commands = encodeFragment(spec.commands.map((c, i) => toCommand(c, i + 1)));
    const base = `${FANOUT}/${name}`;
    const options = (['timeout', 'retries', 'concurrency'] as const)
      .filter((k) => spec[k] !== undefined)
      .map((k) => ({
        kind: 'Add' as const,
        path: `${base}/Options/${k[0]!.toUpperCase()}${k.slice(1)}`,
        value: String(spec[k]),
        format: 'int',
      }));
    const r = await this.run(
      id,
      [
        { kind: 'Add', path: base, format: 'node' },
        ...targets.map((t, i) => ({ kind: 'Add' as const, path: `${base}/Targets/t${i + 1}`, value: t })),
        { kind: 'Add', path: `${base}/Commands`, value: commands, format: 'xml' },
        ...options,
        { kind: 'Exec', path: `${base}/Operations/Start`, correlator },
      ],
      waitMs,
    );
    return { ...r, value: { name, correlator } };
  }

  /** Sets an LwM2M observation in the gateway's ./GwMO/Observations and starts it. */
  async observe(id: string, o: ObservationRequest, waitMs: number): Promise<Outcome<never>> {
    return this.run(id, observationOperations(o), waitMs);
  }

  /** Cancels it on every device (Delete of the entry). */
  async unobserve(id: string, name: string, waitMs: number): Promise<Outcome<never>> {
    return this.run(id, [{ kind: 'Delete', path: `./GwMO/Observations/${name}` }], waitMs);
  }

  /** The latest value per path the gateways reported for the device (notifications and Sends). */
  async observed(deviceId: string, limit = 5000): Promise<ObservedValue[]> {
    const alerts = (await Promise.all((await this.list()).map((g) => this.store.listAlerts(g.deviceId, { limit })))).flat();
    return latestObserved(deviceId, alerts);
  }

  /** The gateway an LwM2M device's credentials go to: the one named, else the one it is behind now. */
  private async credentialGateway(deviceId: string, gateway: string | undefined): Promise<string> {
    requireIdentifier(deviceId, 'device id');
    if (gateway !== undefined) return (await this.gateway(gateway)).deviceId;
    const at = await this.store.getLocation(deviceId);
    if (!at) throw new ServiceError(400, `no gateway has announced "${deviceId}" yet: name one with "gateway"`);
    return at.gatewayId;
  }

  /** Writes an LwM2M device's credentials into its gateway's ./GwMO/LwM2MCredentials; a new key rotates the old one. */
  async putLwm2mCredentials(
    deviceId: string,
    r: Lwm2mCredentialRequest & { gateway?: string },
    waitMs: number,
  ): Promise<Outcome<{ gatewayId: string; fingerprint: string | null }>> {
    const ops = credentialOperations(deviceId, r);
    const gatewayId = await this.credentialGateway(deviceId, r.gateway);
    const out = await this.run(gatewayId, ops, waitMs);
    const spki = r.publicKey !== undefined ? p256Spki(r.publicKey) : undefined;
    const fp = r.key !== undefined ? fingerprint(r.key, 'hex') : spki ? fingerprint(spki, 'base64') : null;
    return { ...out, value: { gatewayId, fingerprint: fp } };
  }

  /** What the gateway holds for the device: identities, fingerprints, the bootstrap target; never a key. */
  async lwm2mCredentials(deviceId: string, gateway: string | undefined, waitMs: number): Promise<Outcome<Tree & { gatewayId: string }>> {
    const gatewayId = await this.credentialGateway(deviceId, gateway);
    const base = `${CREDENTIALS_MO}/${nodeName(deviceId)}`;
    const r = await this.run(gatewayId, [{ kind: 'Get', path: `${base}?list=StructData` }], waitMs);
    const op = r.operations[0]!;
    if (r.done && op.status === 404) throw new ServiceError(404, `gateway ${gatewayId} holds no LwM2M credentials for "${deviceId}"`);
    if (r.done && op.status !== 200) throw new ServiceError(502, `gateway ${gatewayId} answered the read with DM status ${op.status}`);
    if (!r.done) return r;
    const { SecretKey: _k, BootstrapSecretKey: _b, ...value } = structData(op, base);
    return { ...r, value: { ...value, gatewayId } };
  }

  async deleteLwm2mCredentials(deviceId: string, gateway: string | undefined, waitMs: number): Promise<Outcome<{ gatewayId: string }>> {
    const gatewayId = await this.credentialGateway(deviceId, gateway);
    const r = await this.run(gatewayId, [{ kind: 'Delete', path: `${CREDENTIALS_MO}/${nodeName(deviceId)}` }], waitMs);
    if (r.done && r.operations[0]!.status === 404)
      throw new ServiceError(404, `gateway ${gatewayId} holds no LwM2M credentials for "${deviceId}"`);
    return { ...r, value: { gatewayId } };
  }

  async fanout(id: string, name: string, waitMs: number): Promise<Outcome<Tree>> {
    const base = `${FANOUT}/${name}`;
    const r = await this.run(id, [{ kind: 'Get', path: `${base}?list=StructData` }], waitMs);
    const op = r.operations[0]!;
    if (r.done && op.status === 404) throw new ServiceError(404, `gateway ${id} has no fanout "${name}"`);
    return r.done ? { ...r, value: structData(op, base) } : r;
  }
}

function toCommand(c: NewOperation, cmdId: number): Command {
  const data: ItemData | undefined =
    c.value !== undefined && (c.format === 'b64' || c.format === 'bin') ? new Uint8Array(Buffer.from(c.value, 'base64')) : c.value;
  const meta = { ...(c.format && c.format !== 'chr' ? { format: c.format } : {}), ...(c.type ? { type: c.type } : {}) };
  const item = {
    target: { locUri: c.path },
    ...(c.source ? { source: { locUri: c.source } } : {}),
    ...(Object.keys(meta).length ? { meta } : {}),
    ...(data !== undefined ? { data } : {}),
  };
  switch (c.kind) {
    case 'Exec':
      return { kind: 'Exec', cmdId, item, ...(c.correlator ? { correlator: c.correlator } : {}) };
    case 'Get':
    case 'Replace':
    case 'Add':
    case 'Delete':
    case 'Copy':
      return { kind: c.kind, cmdId, items: [item] };
    default:
      throw new ServiceError(400, `command kind must be Get, Replace, Add, Delete, Exec or Copy, not "${String(c.kind)}"`);
  }
}
