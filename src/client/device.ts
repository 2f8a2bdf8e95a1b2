// The `gwmo device` role: a DM client with a persistent tree, a Package#0 listener and a check-in
// period. Its tree is built from the configuration on first start and kept in SQLite after that.
import { NotificationListener, DmHttpClient } from '../transport/index.ts';
import { installDevDetail, installDevInfo, provisionAccount, Tree, type TreePersistence } from '../tree/index.ts';
import { DmClientAgent, type SessionReport } from './agent.ts';
import type { ClientQuirk } from './quirks.ts';
import { Fumo } from './fumo.ts';
import type { UpdateFaults } from './package-download.ts';
import { Scomo } from './scomo.ts';
import type { ClientQuirks } from '../session/client/quirks.ts';

/** Who a DM client is and how it reaches its server: a device's, or a gateway's northbound side. */
export interface DmClientIdentity {
  readonly deviceId: string;
  readonly serverUrl: string;
  readonly serverId: string;
  readonly username: string;
  readonly password: string;
  /** the server's credentials (SRVCRED): needed to verify Package#0 and the server's Cred */
  readonly serverPassword?: string;
  readonly auth: 'basic' | 'md5' | 'hmac';
  readonly encoding: 'xml' | 'wbxml';
}

export interface DeviceConfig extends DmClientIdentity {
  /**
   * Transparent mode: an account with a DM server the device reaches directly (its Package#0 comes
   * through a gateway); the first account stays the tree's owner.
   */
  readonly direct?: Pick<DmClientIdentity, 'serverUrl' | 'serverId' | 'username' | 'password' | 'serverPassword'>;
  readonly manufacturer: string;
  readonly model: string;
  readonly language: string;
  readonly firmware: string;
  /** where Package#0 is listened for; port 0 = any free port; undefined = no listener */
  readonly notifyHost?: string;
  readonly notifyPort?: number;
  /** B.1: the device's Package#0 address is routable from anywhere; it says so in DevInfo/Ext/PublicAddress */
  readonly routable?: boolean;
  /** seconds between client-initiated sessions; 0 = none */
  readonly checkInSeconds: number;
  readonly maxMsgSize?: number;
  readonly ca?: string | Buffer;
  /** markup and flow of some deployed clients (tests, `gwmo fleet --quirks`): src/client/quirks.ts */
  readonly wireQuirks?: readonly ClientQuirk[];
  /** session behaviours of some deployed clients: src/session/client/quirks.ts */
  readonly quirks?: ClientQuirks;
}

const TYPES = { basic: 'BASIC', md5: 'DIGEST', hmac: 'HMAC' } as const;

/** The simulated device's writable vendor nodes and their first values. */
export const VENDOR_SETTINGS: readonly (readonly [string, 'chr' | 'int' | 'bool', string])[] = [
  ['./Vendor/gwmo/Note', 'chr', ''],
  ['./Vendor/gwmo/Settings/Interval', 'int', '60'],
  ['./Vendor/gwmo/Settings/Enabled', 'bool', 'true'],
  ['./Vendor/gwmo/Settings/Label', 'chr', 'sim'],
];

export class DmDevice {
  readonly tree: Tree;
  readonly agent: DmClientAgent;
  private readonly http: DmHttpClient;
  private readonly config: DeviceConfig;
  private listener: NotificationListener | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly log: (event: string, fields: Record<string, unknown>) => void;
  notifyAddress: string | undefined;
  /** resolves each session report, for whoever waits on the next one */
  private waiters: ((r: SessionReport) => void)[] = [];

  private readonly ownHttp: boolean;
  /** firmware (./FUMO) and software (./SCOMO) updates: docs/updates.md */
  readonly fumo: Fumo;
  readonly scomo: Scomo;
  /** faults the next updates run into (tests); changed in place */
  readonly updateFaults: UpdateFaults = {};

  constructor(
    config: DeviceConfig,
    persistence?: TreePersistence,
    log: (event: string, fields: Record<string, unknown>) => void = () => {},
    http?: DmHttpClient,
  ) {
    this.config = config;
    this.log = log;
    this.tree = new Tree({ ...(persistence ? { persistence } : {}), now: () => Date.now() });
    this.provision();
    // a simulated fleet shares one client (and its connections) among its devices
    this.ownHttp = http === undefined;
    this.http = http ?? new DmHttpClient({ ...(config.ca ? { ca: config.ca } : {}) });
    this.agent = new DmClientAgent({
      tree: this.tree,
      http: this.http,
      clock: { now: () => Date.now() },
      encoding: config.encoding,
      log,
      ...(config.maxMsgSize ? { maxMsgSize: config.maxMsgSize } : {}),
      ...(config.quirks ? { quirks: config.quirks } : {}),
      ...(config.wireQuirks ? { wireQuirks: config.wireQuirks } : {}),
    });
    const updates = {
      // a transparent-mode device reports to the server that sent the Exec, not to its gateway
      report: (alert: Parameters<DmClientAgent['queueAlert']>[0], serverId?: string) => {
        this.agent.queueAlert(alert, serverId);
        void this.session(serverId);
      },
      faults: this.updateFaults,
    };
    this.fumo = new Fumo(this.tree, updates);
    this.scomo = new Scomo(this.tree, updates);
    let reboots = 0;
    this.tree.onExec('./Vendor/gwmo/Reboot', ({ correlator }) => {
      reboots++;
      this.tree.define('./Vendor/gwmo/Reboots', { format: 'int', value: String(reboots) });
      if (correlator === undefined) return 200;
      // asynchronous: accepted now, reported with a Generic Alert in the next session
      this.agent.queueAlert({
        code: 1226,
        correlator,
        items: [{ source: './Vendor/gwmo/Reboot', type: 'org.gwmo.reboot', format: 'int', data: '200' }],
      });
      setImmediate(() => void this.session());
      return 202;
    });
  }

  /** DevInfo, DevDetail and the DMAcc for the configured server, written when missing or changed. */
  private provision(): void {
    const c = this.config;
    installDevInfo(this.tree, { DevId: c.deviceId, Man: c.manufacturer, Mod: c.model, DmV: '1.2', Lang: c.language });
    installDevDetail(this.tree, { DevTyp: 'gwmo-device', OEM: c.manufacturer, FwV: c.firmware, SwV: 'gwmo', HwV: 'sim', LrgObj: true });
    provisionAccount(this.tree, {
      serverId: c.serverId,
      addr: c.serverUrl,
      type: TYPES[c.auth],
      name: c.username,
      secret: c.password,
      defaultId: 'gwmo',
      ...(c.serverPassword !== undefined ? { serverSecret: c.serverPassword } : {}),
    });
    if (c.direct) {
      provisionAccount(this.tree, {
        serverId: c.direct.serverId,
        addr: c.direct.serverUrl,
        type: TYPES[c.auth],
        name: c.direct.username,
        secret: c.direct.password,
        defaultId: 'direct',
        owner: false,
        ...(c.direct.serverPassword !== undefined ? { serverSecret: c.direct.serverPassword } : {}),
      });
    }
    if (!this.tree.exists('./Vendor/gwmo/Reboot')) this.tree.define('./Vendor/gwmo/Reboot', { format: 'node' });
    // a few writable settings, so the server has something to Replace, Copy and Delete (docs/tree.md);
    // seeded when missing: values the server wrote persist, a deleted one comes back at the next start
    for (const [path, format, value] of VENDOR_SETTINGS) {
      if (!this.tree.exists(path)) this.tree.define(path, { format, value });
    }
  }

  async start(): Promise<void> {
    if (this.config.notifyPort !== undefined) {
      this.listener = new NotificationListener({
        host: this.config.notifyHost ?? '127.0.0.1',
        port: this.config.notifyPort,
        onNotification: async (bytes, from) => {
          this.log('notification.received', { from: `${from.address}:${from.port}`, bytes: bytes.length });
          const report = await this.agent.notified(bytes);
          if (report) this.settle(report);
        },
        onError: (err) => this.log('notification.error', { error: String(err) }),
      });
      const { host, port } = await this.listener.listen();
      this.notifyAddress = `${host}:${port}`;
      // tells the server (or gateway) where to send Package#0: it sees our address, not our UDP port
      this.tree.define('./DevInfo/Ext/NotifyPort', { value: String(port), permanent: true, access: ['Get'] });
      // listening on one address: say which, so a host with several addresses is notified where it listens
      if (host !== '0.0.0.0' && host !== '::') {
        this.tree.define('./DevInfo/Ext/NotifyAddr', {
          value: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
          permanent: true,
          access: ['Get'],
        });
      }
      if (this.config.routable)
        this.tree.define('./DevInfo/Ext/PublicAddress', { value: this.notifyAddress, permanent: true, access: ['Get'] });
    }
    if (this.config.checkInSeconds > 0) {
      this.timer = setInterval(() => void this.session(), this.config.checkInSeconds * 1000);
      this.timer.unref();
    }
  }

  /** A session of the device's own, with its first server or the one named. */
  async session(serverId = this.config.serverId): Promise<SessionReport> {
    const report = await this.agent.session('client', undefined, serverId);
    this.settle(report);
    return report;
  }

  /** The next session that ends (whoever started it). */
  nextSession(): Promise<SessionReport> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private settle(report: SessionReport): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w(report);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.listener?.close();
    this.listener = undefined;
    if (this.ownHttp) this.http.close();
  }
}
