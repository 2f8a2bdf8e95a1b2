// The `gwmo gateway` role. Northbound a DM client of the server: its own tree with DevInfo, DMAcc
// and the GwMO objects, check-ins, a Package#0 listener, Generic Alerts. Southbound a DM server for
// the end devices on its LAN (proxy mode): their accounts, queued commands, Package#0 to wake them.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { DmClientAgent, type SessionReport } from '../client/agent.ts';
import type { DmClientIdentity } from '../client/device.ts';
import { AuthScheme, newNonce } from '../protocol/index.ts';
import { DmServer } from '../server/dm-server.ts';
import { Pruner } from '../server/retention.ts';
import { type ServerDeps, standInNonce } from '../session/server/index.ts';
import type { GatewayStore } from '../store/gateway.ts';
import type { ServerStore, SessionProfileRow, SyncAccounts } from '../store/server.ts';
import { ServerSecrets, secretState } from './server-secret.ts';
import { DmHttpClient, NotificationListener, PushPoller, sendNotification, sendPlain, serveFile } from '../transport/index.ts';
import { installDevDetail, installDevInfo, provisionAccount, Tree, type TreePersistence } from '../tree/index.ts';
import { GatewayConfig } from './config.ts';
import { FanoutRunner } from './fanout.ts';
import { ProxyDriver } from './proxy-driver.ts';
import type { EndDeviceDriver } from '../adapters/driver.ts';
import { Lwm2mDriver } from '../adapters/lwm2m/driver.ts';
import { objectLinks } from '../adapters/lwm2m/link.ts';
import { Lwm2mServer, type Registration } from '../adapters/lwm2m/server.ts';
import { type GatewayAlert, Inventory } from './inventory.ts';
import { Lwm2mObservations, NOTIFY_ALERT, SEND_ALERT } from './lwm2m-observations.ts';
import { type SecureLwm2m, startSecureBootstrap, startSecureLwm2m } from './lwm2m-secure.ts';
import type { DtlsServer } from '../transport/dtls/index.ts';
import { OBSERVATIONS_URN, observationsShape } from './mo/observations.ts';
import { LWM2M_CREDENTIALS_URN, lwm2mCredentialsShape } from './mo/lwm2m-credentials.ts';
import { Lwm2mCredentials } from './lwm2m-credentials.ts';
import { bootstrapDecision } from './lwm2m-bootstrap.ts';
import { Lwm2mBootstrapServer } from '../adapters/lwm2m/bootstrap.ts';
import { configShape, CONFIG_URN } from './mo/config.ts';
import { fanoutShape } from './mo/fanout.ts';
import { imagesShape, IMAGES_URN } from './mo/images.ts';
import { edTriggerShape, EDTRIGGER_URN } from './mo/edtrigger.ts';
import { TransparentForwarder } from './transparent.ts';
import { startBootstrap } from './bootstrap.ts';
import { DeviceDownloads, downloadsText } from './downloads.ts';
import { ImageStore } from './images.ts';
import { inventoryShape } from './mo/inventory.ts';
import { mountOf } from './mo/shape.ts';
import { GatewayMetrics } from './metrics.ts';
import { DELIVERED_KEY, gatewaySteps } from './retention.ts';
import { AlertBatch } from './alert-batch.ts';

/** Northbound (deviceId = the gateway's own DevId) as any DM client; then the LAN side. */
export interface GatewayOptions extends DmClientIdentity {
  /** LAN side: where end devices reach the gateway's DM server */
  readonly lanHost: string;
  readonly lanPort: number;
  /** the ServerID the gateway has toward its devices */
  readonly lanServerId: string;
  /** enrolment: a device that authenticates with this name and password gets an account */
  readonly deviceUser: string;
  readonly devicePassword: string;
  /** the gateway's credentials toward devices (SRVCRED, Package#0 digest) */
  readonly lanServerPassword: string;
  /** the nonce LAN devices are provisioned with for the gateway's Cred (unset: the resync nonce) */
  readonly lanServerNonce?: Uint8Array;
  /** the session profile of the accounts the gateway creates for its devices (docs/interop.md) */
  readonly lanSessionProfile?: SessionProfileRow;
  /** LwM2M server (adaptation mode) on UDP; undefined = none */
  readonly lwm2mHost?: string;
  readonly lwm2mPort?: number;
  /** LwM2M bootstrap server (docs/lwm2m.md "Bootstrap") on UDP, plain CoAP for NoSec devices; undefined = none */
  readonly lwm2mBootstrapPort?: number;
  /** the bootstrap server over DTLS (coaps://) with each device's bootstrap PSK; undefined = none */
  readonly lwm2mBootstrapDtlsPort?: number;
  /** the URI bootstrap hands out for the plain LwM2M listener (default coap://<its bound address>) */
  readonly lwm2mServerUri?: string;
  /** LwM2M queue mode: how long a device listens after it spoke (default 93 s, LwM2M 1.1 MAX_TRANSMIT_WAIT) */
  readonly lwm2mAwakeMs?: number;
  /** coaps:// (DTLS 1.2, PSK) on this UDP port besides plain CoAP; undefined = none */
  readonly lwm2mDtlsPort?: number;
  /** false: no plain CoAP (NoSec) at all, only the DTLS listener */
  readonly lwm2mNoSec?: boolean;
  /** PSKs of coaps:// devices set locally (--lwm2m-psk-file), added to those the DM server provisions; key in hex */
  readonly lwm2mPsks?: readonly { readonly identity: string; readonly endpoint: string; readonly key: string }[];
  /** HLF-001: no inbound port: the gateway keeps a long-poll open at the server for its Package#0 */
  readonly pushChannel?: boolean;
  readonly notifyHost?: string;
  readonly notifyPort?: number;
  readonly checkInSeconds: number;
  readonly stores: { readonly tree?: TreePersistence; readonly south: ServerStore & SyncAccounts; readonly gateway: GatewayStore };
  /** where stored images are kept (content-addressed) */
  readonly imageDir: string;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
  /** more pages on the LAN listener (the status page: src/web/gateway-status.ts, wired by the CLI) */
  readonly lanRoutes?: (req: IncomingMessage, res: ServerResponse, gateway: DmGateway) => Promise<boolean>;
}

const SCHEMES = { basic: 'BASIC', md5: 'DIGEST', hmac: 'HMAC' } as const;

export class DmGateway {
  /** 'attached' / 'detached' (deviceId), 'job' (name, state): for tests and logs */
  readonly events = new EventEmitter();
  readonly tree: Tree;
  readonly agent: DmClientAgent;
  readonly config: GatewayConfig;
  readonly inventory: Inventory;
  readonly runner: FanoutRunner;
  readonly proxy: ProxyDriver;
  /** one driver per protocol: proxy mode for DM devices, adapters for the others */
  readonly drivers = new Map<string, EndDeviceDriver>();
  readonly images: ImageStore;
  /** bytes each device of a running fanout has fetched from the image store */
  readonly downloads: DeviceDownloads;
  readonly lan: DmServer;
  readonly metrics: GatewayMetrics;
  /**
   * LwM2M keys the DM server provisioned (./GwMO/LwM2MCredentials). The secured listeners' seam:
   * `lwm2mCredentials.lookupPsk(identity)` → {key, endpoint, previousKey?} for registration,
   * `lookupBootstrapPsk(identity)` for bootstrap, `lookupPublicKey(spki)` for RPK, and
   * `proved(identity, key)` after a handshake (the rotation rule).
   */
  readonly lwm2mCredentials: Lwm2mCredentials;
  /** history past ./GwMO/Config/Retention, deleted in the background */
  readonly pruner: Pruner;
  private readonly options: GatewayOptions;
  private readonly http: DmHttpClient;
  private listener: NotificationListener | undefined;
  private poller: PushPoller | undefined;
  private timers: NodeJS.Timeout[] = [];
  private flushing: Promise<unknown> | undefined;
  private flushAgain = false;
  /** LwM2M notifications and Sends waiting for the next north session, packed per device */
  readonly alertBatch: AlertBatch;
  lanUrl = '';
  /** the last session with the server: when, and how it ended */
  lastCheckIn: { at: number; outcome: string } | undefined;
  lwm2m: Lwm2mServer | undefined;
  /** LwM2M observations the server asked for (./GwMO/Observations); with the LwM2M server */
  observations: Lwm2mObservations | undefined;
  lwm2mAddress: string | undefined;
  /** the bootstrap servers: plain CoAP, coaps:// */
  readonly lwm2mBootstraps: Lwm2mBootstrapServer[] = [];
  lwm2mBootstrapAddress: string | undefined;
  /** host:port of the coaps:// bootstrap listener */
  lwm2mBootstrapSecureAddress: string | undefined;
  private lwm2mBootstrapDtls: DtlsServer | undefined;
  /** coaps://host:port of the secured LwM2M listener, set by it when it listens: bootstrap sends PSK devices there */
  lwm2mSecureUri: string | undefined;
  /** host:port of the coaps:// listener */
  lwm2mSecureAddress: string | undefined;
  lwm2mSecure: SecureLwm2m | undefined;
  notifyAddress: string | undefined;

  constructor(options: GatewayOptions) {
    this.options = options;
    const now = (): number => Date.now();
    const log = options.log ?? (() => {});
    const { gateway: gstore, south } = options.stores;
    this.config = new GatewayConfig(gstore, { ServerAccount: options.serverId });
    this.inventory = new Inventory(gstore, this.config, (a) => this.alert(a));
    this.tree = new Tree({ ...(options.stores.tree ? { persistence: options.stores.tree } : {}), now });
    this.http = new DmHttpClient();
    this.alertBatch = new AlertBatch({ log });
    this.agent = new DmClientAgent({
      tree: this.tree,
      http: this.http,
      clock: { now },
      encoding: options.encoding,
      log,
      pendingAlerts: () => this.alertBatch.take(),
    });
    this.images = new ImageStore(options.imageDir, gstore, this.config, (a) => this.alert(a));
    this.downloads = new DeviceDownloads(this.images);
    this.metrics = new GatewayMetrics(options.deviceId);
    this.metrics.observeBatch(this.alertBatch, () => this.observations?.dropped ?? 0);
    this.lwm2mCredentials = new Lwm2mCredentials(gstore, log);
    // local keys (--lwm2m-psk-file): kept as the DM server's are, so rotation and bootstrap treat them alike
    for (const k of options.lwm2mPsks ?? []) {
      const r = this.lwm2mCredentials.seedLocal(k.endpoint, { identity: k.identity, key: k.key });
      if (r === 'taken') throw new Error(`LwM2M PSK identity ${JSON.stringify(k.identity)} is another endpoint's`);
      if (r === 'kept') log('lwm2m.psk-file.kept', { endpoint: k.endpoint, reason: 'the DM server has set this endpoint key since' });
    }
    this.pruner = new Pruner({
      steps: gatewaySteps(gstore, south, this.config),
      intervalMs: () => this.config.int('Retention/IntervalSeconds') * 1000,
      registry: this.metrics.registry,
      log,
    });
    this.lan = new DmServer({
      store: south,
      serverId: options.lanServerId,
      host: options.lanHost,
      port: options.lanPort,
      log,
      metrics: this.metrics.dm,
      // images for the devices, next to their DM endpoint
      routes: () => async (req, res) => {
        if (await this.options.lanRoutes?.(req, res, this)) return true;
        const url = new URL(req.url ?? '/', 'http://localhost');
        const m = /^\/img\/([0-9a-f]{64})$/.exec(url.pathname);
        if (!m) return false;
        // the LAN is not trusted: only the link this gateway handed out (in PkgURL) opens an image
        const dev = url.searchParams.get('dev');
        const access = this.images.check(m[1]!, url.searchParams.get('token'), dev);
        if (access !== 'ok') {
          sendPlain(
            res,
            access === 'missing' ? 401 : 403,
            access === 'missing'
              ? 'an image on this gateway is fetched with the link the gateway handed out (?token=)'
              : 'this image link is not valid for this image',
          );
          return true;
        }
        const file = this.images.file(m[1]!);
        if (!file) {
          sendPlain(res, 404, 'no such image on this gateway');
          return true;
        }
        await serveFile(
          req,
          res,
          { ...file, etag: m[1]!, filename: this.images.filename(m[1]!) },
          this.images.served,
          dev === null ? undefined : (at, size) => this.downloads.served(dev, at, size),
        );
        return true;
      },
      deps: (base) => this.enrolling(base),
      events: {
        operationDone: (op) => this.proxy.operationChanged(op),
        devInfo: (deviceId, devInfo, from) => {
          const { arrived } = this.inventory.seen(
            deviceId,
            {
              protocol: `OMA-DM/${devInfo['DmV'] ?? '1.2'}`,
              info: devInfo,
              dmClient: true,
              ...(from ? { localAddress: from.replace(/^::ffff:/, '') } : {}),
            },
            now(),
          );
          if (arrived) queueMicrotask(() => this.events.emit('attached', deviceId));
        },
      },
    });
    // a device rotated off the shared secret and then reset holds it again: a session it opens proves
    // that (src/gateway/server-secret.ts), and a Package#0 keyed with it is what makes it open one
    this.lan.service.resyncSecrets = [options.lanServerPassword];
    this.proxy = new ProxyDriver(
      south,
      async (deviceId) => {
        try {
          await this.lan.service.notify(deviceId);
          return true;
        } catch {
          return false; // no notify address yet: the device's own check-in picks the commands up
        }
      },
      now,
    );
    this.runner = new FanoutRunner({
      store: gstore,
      config: this.config,
      now,
      alert: (a) => this.alert(a),
      driverFor: (protocol) => this.drivers.get(protocol),
      turns: this.downloads,
      cancelled: () => this.proxy.interrupt(),
      log: (event, fields) => log(event, fields),
      progress: (job, done, total) => {
        log('fanout.progress', { job, done, total });
        this.events.emit('progress', job, done, total);
      },
    });
    // what an operator follows in the log (and a test waits on): a device listed as attached or detached
    this.events.on('attached', (deviceId: string) => log('inventory.attached', { deviceId }));
    this.events.on('detached', (deviceId: string) => log('inventory.detached', { deviceId }));
    this.drivers.set(this.proxy.protocol, this.proxy);
    this.metrics.observe(gstore, this.images.served, this.events);
    this.provision();
  }

  /**
   * Devices that present the LAN enrolment credentials get an account on first contact, stored once
   * they proved themselves: a stranger's wrong guesses under new ids must not grow the store.
   */
  private enrolling(base: ServerDeps): ServerDeps {
    const south = this.options.stores.south;
    const o = this.options;
    const key = newNonce(32);
    const secrets = new ServerSecrets({
      store: south,
      serverId: o.lanServerId,
      shared: o.lanServerPassword,
      now: () => Date.now(),
      log: o.log ?? (() => {}),
    });
    return {
      ...base,
      takeOperations: async (deviceId, limit) => secrets.fill(deviceId, await base.takeOperations(deviceId, limit)),
      completeOperation: async (deviceId, id, outcome) => {
        await base.completeOperation(deviceId, id, outcome);
        await secrets.completed(deviceId, id);
      },
      findAccount: async (deviceId) => {
        const known = await base.findAccount(deviceId);
        if (known) return secrets.withShared(known);
        return {
          deviceId,
          clientAuth: { scheme: AuthScheme.Md5, name: o.deviceUser, password: o.devicePassword },
          serverAuth: { name: o.lanServerId, password: o.lanServerPassword },
          clientNonce: standInNonce(key, deviceId, Date.now()),
          firstContact: true,
          ...(o.lanServerNonce ? { serverNonce: o.lanServerNonce } : {}),
          ...(o.lanSessionProfile ? { profile: o.lanSessionProfile } : {}),
        };
      },
      onAuthenticated: async (account) => {
        // create-or-skip: two first sessions at once do not replace each other's account
        await south.insertDevice({
          deviceId: account.deviceId,
          scheme: AuthScheme.Md5,
          clientName: o.deviceUser,
          clientPassword: o.devicePassword,
          serverName: o.lanServerId,
          serverPassword: o.lanServerPassword,
          devInfo: {},
          createdAt: Date.now(),
          lastSeen: Date.now(),
          ...(o.lanServerNonce ? { serverNonce: o.lanServerNonce } : {}),
          ...(o.lanSessionProfile ? { sessionProfile: o.lanSessionProfile } : {}),
        });
        await base.onAuthenticated?.(account);
        // enrolled on the shared secret (now or before per-device secrets): it gets its own in this session
        await secrets.authenticated(account.deviceId);
      },
      onServerAuthAccepted: async (deviceId, password) => {
        await base.onServerAuthAccepted?.(deviceId, password);
        await secrets.accepted(deviceId, password);
      },
    };
  }

  private provision(): void {
    const o = this.options;
    installDevInfo(this.tree, { DevId: o.deviceId, Man: 'gwmo', Mod: 'gwmo-gateway', DmV: '1.2', Lang: 'en-US' });
    // servers tell a GwMO gateway from a plain device by this extension leaf
    this.tree.define('./DevInfo/Ext/GwMO', { value: '1.0', permanent: true, access: ['Get'] });
    installDevDetail(this.tree, { DevTyp: 'gateway', OEM: 'gwmo', FwV: '0.1.0', SwV: 'gwmo', HwV: 'sim', LrgObj: true });
    provisionAccount(this.tree, {
      serverId: o.serverId,
      addr: o.serverUrl,
      type: SCHEMES[o.auth],
      name: o.username,
      secret: o.password,
      defaultId: 'server',
      ...(o.serverPassword !== undefined ? { serverSecret: o.serverPassword } : {}),
    });
    this.tree.define('./GwMO', { format: 'node', permanent: true });
    const gstore = o.stores.gateway;
    const south = o.stores.south;
    for (const [name, type, shape] of [
      ['Config', CONFIG_URN, () => configShape(this.config)],
      [
        'DevInventory',
        'urn:oma:mo:oma-gwmo-deviceinventory:1.1',
        () =>
          inventoryShape({
            store: gstore,
            inventory: this.inventory,
            left: (id) => this.proxy.leave(id),
            pending: (id) => south.openOperationsNow(id),
            awake: (id) => (this.lwm2m?.registration(id)?.queueMode ? this.lwm2m.awake(id) : undefined),
            objects: (id) => {
              const reg = this.lwm2m?.registration(id);
              return reg ? objectLinks(reg.links) : undefined;
            },
            notifyProblem: (id) => this.lan.service.notifyWatch.reason(id, south.deviceNow(id)?.lastSeen),
            credentials: (id) => {
              const a = south.deviceNow(id);
              return a ? { name: a.clientName, hasSecret: a.clientPassword !== '' } : undefined;
            },
            serverSecret: (id) => {
              const a = south.deviceNow(id);
              return a?.serverPassword === undefined ? undefined : secretState(a, o.lanServerPassword);
            },
            bootstrap: (id, correlator) =>
              startBootstrap({
                deviceId: id,
                store: gstore,
                driver: this.proxy,
                correlator,
                alert: (a) => this.alert(a),
                timeoutMs: this.config.int('Fanout/DeviceTimeout') * 1000,
                adopt: (name, secret, serverSecret) => {
                  const a = south.deviceNow(id);
                  if (!a) return;
                  // the device's newest account (the one it uses from now on) holds this server secret
                  south.putDeviceNow({ ...a, clientName: name, clientPassword: secret, serverPassword: serverSecret });
                  // the device's new account holds no nonces yet: both sides start it on the resync nonce (DM 1.2.1); undefined writes NULL
                  void south
                    .changeAccount(id, { serverPasswordNext: null })
                    .then(() =>
                      south.updateDevice(id, { clientNonce: undefined, serverNonce: undefined } as unknown as Parameters<
                        typeof south.updateDevice
                      >[1]),
                    )
                    .catch((err: unknown) => this.options.log?.('bootstrap.error', { deviceId: id, error: String(err) }));
                },
              }),
            setCredentials: (id, patch) => {
              const a = south.deviceNow(id);
              south.putDeviceNow({
                deviceId: id,
                scheme: a?.scheme ?? AuthScheme.Md5,
                clientName: patch.name ?? a?.clientName ?? this.options.deviceUser,
                clientPassword: patch.secret ?? a?.clientPassword ?? '',
                serverName: o.lanServerId,
                // a device's own secret stays (it holds it): only a new account starts on the shared one
                serverPassword: a?.serverPassword ?? o.lanServerPassword,
                devInfo: a?.devInfo ?? {},
                createdAt: a?.createdAt ?? Date.now(),
              });
            },
          }),
      ],
      [
        'Fanout',
        'urn:oma:mo:oma-gwmo-fanout:1.0',
        () =>
          fanoutShape(
            gstore,
            this.runner,
            () => Date.now(),
            (job) => downloadsText(this.downloads.of(job)),
          ),
      ],
      ['Images', IMAGES_URN, () => imagesShape(gstore, this.images, () => Date.now())],
      ['Observations', OBSERVATIONS_URN, () => observationsShape(() => this.observations)],
      ['LwM2MCredentials', LWM2M_CREDENTIALS_URN, () => lwm2mCredentialsShape(this.lwm2mCredentials)],
    ] as const) {
      this.tree.define(`./GwMO/${name}`, { format: 'node', type, permanent: true });
      this.tree.mount(`./GwMO/${name}`, mountOf(shape));
    }
    // transparent mode: Package#0 from the server forwarded to the device, unchanged
    const forwarder = new TransparentForwarder({ gstore, south, serverId: o.serverId, send: sendNotification, now: () => Date.now() });
    this.tree.define('./GwMO/EDTrigger', { format: 'node', type: EDTRIGGER_URN, permanent: true });
    const triggers = new Map();
    this.tree.mount(
      './GwMO/EDTrigger',
      mountOf(() => edTriggerShape(triggers, forwarder, o.log ?? (() => {}))),
    );
  }

  async start(): Promise<void> {
    this.lanUrl = await this.lan.start();
    this.images.baseUrl = this.lanUrl.replace(/\/dm$/, '');
    // stagings a crash cut: resumed from what is on disk
    const resumed = this.images.resume();
    if (resumed.length > 0) this.options.log?.('image.resumed', { names: resumed });
    if (this.options.lwm2mPort !== undefined || this.options.lwm2mDtlsPort !== undefined) await this.startLwm2m();
    if (this.options.lwm2mBootstrapPort !== undefined) await this.startLwm2mBootstrap(false);
    if (this.options.lwm2mBootstrapDtlsPort !== undefined) await this.startLwm2mBootstrap(true);
    if (this.options.notifyPort !== undefined) {
      this.listener = new NotificationListener({
        host: this.options.notifyHost ?? '127.0.0.1',
        port: this.options.notifyPort,
        onNotification: async (bytes) => {
          const at = Date.now();
          const report = await this.agent.notified(bytes);
          if (report) this.logSession(report, at);
        },
        onError: (err) => this.options.log?.('notification.error', { error: String(err) }),
      });
      const { host, port } = await this.listener.listen();
      this.notifyAddress = `${host}:${port}`;
      this.tree.define('./DevInfo/Ext/NotifyPort', { value: String(port), permanent: true, access: ['Get'] });
    }
    if (this.options.pushChannel) {
      const base = this.options.serverUrl.replace(/\/dm(\?.*)?$/, '');
      this.poller = new PushPoller({
        url: `${base}/push/${encodeURIComponent(this.options.deviceId)}`,
        username: this.options.username,
        password: this.options.password,
        onNotification: async (bytes) => {
          const at = Date.now();
          const report = await this.agent.notified(bytes);
          if (report) this.logSession(report, at);
        },
        onState: (state, detail) => this.options.log?.('push.channel', { state, ...(detail ? { detail } : {}) }),
      });
      this.poller.start();
    }
    const every = (ms: number, fn: () => void): void => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(500, () => {
      for (const d of this.inventory.sweep(Date.now())) this.events.emit('detached', d.deviceId);
    });
    this.pruner.start();
    if (this.options.checkInSeconds > 0) every(this.options.checkInSeconds * 1000, () => void this.checkIn());
    this.runner.resume();
  }

  /** Adaptation mode for LwM2M devices: registrations feed the inventory, the driver runs fanouts. */
  private async startLwm2m(): Promise<void> {
    const log = this.options.log ?? (() => {});
    const nosec = this.options.lwm2mNoSec !== false && this.options.lwm2mPort !== undefined;
    if (this.options.lwm2mDtlsPort !== undefined) {
      this.lwm2mSecure = await startSecureLwm2m({
        host: this.options.lwm2mHost ?? '127.0.0.1',
        port: this.options.lwm2mDtlsPort,
        credentials: this.lwm2mCredentials,
        log,
      });
      this.lwm2mSecureAddress = this.lwm2mSecure.address;
      this.lwm2mSecureUri = `coaps://${this.lwm2mSecure.address}`;
    }
    const server = new Lwm2mServer({
      host: this.options.lwm2mHost ?? '127.0.0.1',
      port: this.options.lwm2mPort ?? 5683,
      timeoutMs: 10_000,
      ...(this.options.lwm2mAwakeMs !== undefined ? { awakeMs: this.options.lwm2mAwakeMs } : {}),
      nosec,
      ...(this.lwm2mSecure ? { secure: this.lwm2mSecure.listener } : {}),
    });
    const { host, port } = await server.listen();
    this.lwm2m = server;
    if (nosec) this.lwm2mAddress = `${host}:${port}`;
    server.on('refused', (e: Record<string, unknown>) => log('lwm2m.refused', e));
    const driver = new Lwm2mDriver(server, { log });
    this.drivers.set(driver.protocol, driver);
    this.observations = new Lwm2mObservations({
      server,
      store: this.store,
      alert: (a) => this.alert(a),
      ...(this.options.log ? { log: this.options.log } : {}),
    });
    const seen = async (reg: Registration, fresh: boolean): Promise<void> => {
      let info: Record<string, string> = {};
      if (fresh) {
        // object 3 gives what the inventory shows for a DM device's DevInfo/DevDetail: one Read of /3/0
        const names: Record<string, string> = {
          '/3/0/0': 'Man',
          '/3/0/1': 'Mod',
          '/3/0/2': 'Serial',
          '/3/0/3': 'FwV',
          '/3/0/17': 'DevTyp',
          '/3/0/18': 'HwV',
          '/3/0/19': 'SwV',
        };
        const [r] = await driver.execute(reg.endpoint, [{ kind: 'Get', target: './3/0' }], {
          key: 'inventory',
          timeoutMs: 5000,
          retries: 0,
          cancelled: () => false,
        });
        if (r?.status === 200 && typeof r.data === 'string') {
          for (const rec of JSON.parse(r.data) as { n?: string; vs?: string; v?: number }[]) {
            const name = rec.n !== undefined ? names[rec.n] : undefined;
            if (name) info[name] = rec.vs ?? String(rec.v ?? '');
          }
        }
      }
      const { arrived } = this.inventory.seen(
        reg.endpoint,
        { protocol: `LwM2M/${reg.version}`, info, dmClient: false, localAddress: `${reg.address}:${reg.port}` },
        Date.now(),
      );
      if (arrived) this.events.emit('attached', reg.endpoint);
    };
    server.on(
      'registered',
      (reg: Registration) => void seen(reg, true).catch((err) => log('lwm2m.error', { endpoint: reg.endpoint, error: String(err) })),
    );
    server.on('updated', (reg: Registration) => void seen(reg, false));
    const gone = (reg: Registration): void => {
      if (this.inventory.detach(reg.endpoint)) this.events.emit('detached', reg.endpoint);
    };
    server.on('deregistered', gone);
    server.on('expired', gone);
  }

  /** A bootstrap server, plain or over DTLS: what each endpoint gets comes from ./GwMO/LwM2MCredentials (lwm2m-bootstrap.ts). */
  private async startLwm2mBootstrap(secure: boolean): Promise<void> {
    const log = this.options.log ?? (() => {});
    const host = this.options.lwm2mHost ?? '127.0.0.1';
    const dtls = secure
      ? await startSecureBootstrap({ host, port: this.options.lwm2mBootstrapDtlsPort!, credentials: this.lwm2mCredentials, log })
      : undefined;
    this.lwm2mBootstrapDtls = dtls?.dtls;
    const bs = new Lwm2mBootstrapServer({
      host,
      port: this.options.lwm2mBootstrapPort ?? 0,
      ...(dtls ? { socket: dtls.socket, identityOf: dtls.identity } : {}),
      config: (endpoint, peer) =>
        bootstrapDecision(
          this.lwm2mCredentials,
          endpoint,
          peer,
          {
            ...(this.lwm2mAddress ? { plain: this.options.lwm2mServerUri ?? `coap://${this.lwm2mAddress}` } : {}),
            ...(this.lwm2mSecureUri ? { secure: this.lwm2mSecureUri } : {}),
          },
          (why) => log('lwm2m.bootstrap.refused', { endpoint, from: `${peer.address}:${peer.port}`, why }),
        ),
    });
    const a = await bs.listen();
    this.lwm2mBootstraps.push(bs);
    if (secure) this.lwm2mBootstrapSecureAddress = `${a.host}:${a.port}`;
    else this.lwm2mBootstrapAddress = `${a.host}:${a.port}`;
    bs.on('bootstrapped', (endpoint: string, accounts: readonly { uri: string }[]) =>
      log('lwm2m.bootstrap.done', { endpoint, server: accounts[0]?.uri }),
    );
    bs.on('failed', (endpoint: string, reason: string) => log('lwm2m.bootstrap.failed', { endpoint, reason }));
  }

  get store(): GatewayStore {
    return this.options.stores.gateway;
  }

  /** A session with the server now (alerts waiting go with it). */
  async checkIn(): Promise<void> {
    const at = Date.now();
    this.logSession(await this.agent.session('client'), at);
  }

  private logSession(report: SessionReport, startedAt: number): void {
    // every alert queued before it started went out with it: fanout results the server now has (retention)
    if (report.end === 'done') this.store.setConfig(DELIVERED_KEY, String(startedAt));
    this.metrics.northSession(report.end);
    this.lastCheckIn = { at: Date.now(), outcome: report.end };
    this.options.log?.('north.session', { end: report.end, messages: report.messages, ...(report.error ? { error: report.error } : {}) });
  }

  /** Queues a Generic Alert for the server and opens a session to deliver it. */
  private alert(a: GatewayAlert): void {
    if ((a.type === NOTIFY_ALERT || a.type === SEND_ALERT) && !a.correlator && !a.mark) {
      if (!this.alertBatch.add(a)) return;
    } else this.queueAlert(a);
    // alerts raised while a session is under way go in the next one
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = Promise.resolve()
      .then(async () => {
        do {
          this.flushAgain = false;
          await this.checkIn();
        } while (this.flushAgain);
      })
      .finally(() => (this.flushing = undefined));
  }

  private queueAlert(a: GatewayAlert): void {
    this.agent.queueAlert({
      code: 1226,
      ...(a.correlator ? { correlator: a.correlator } : {}),
      items: [{ source: a.source, type: a.type, format: a.format, data: a.data, ...(a.mark ? { mark: a.mark } : {}) }],
    });
    this.options.log?.('alert.queued', { type: a.type, source: a.source });
  }

  /** Resolves once queued alerts have been delivered (or their session failed). */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.pruner.stop();
    this.runner.halt();
    this.poller?.stop();
    await this.listener?.close();
    await this.lwm2m?.close();
    for (const bs of this.lwm2mBootstraps) await bs.close();
    await this.lwm2mBootstrapDtls?.close();
    await this.lwm2mSecure?.dtls.close();
    await this.lan.stop();
    this.inventory.flush();
    this.http.close();
  }
}
