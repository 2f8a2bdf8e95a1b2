// The DM server role: the session engine behind the HTTP endpoint, the REST API on the same
// listener, the store, Package#0 over UDP, and a sweep that drops idle sessions.
import { isRefusal, ServerEngine, type ServerDeps } from '../session/server/index.ts';
import type { Clock } from '../session/clock.ts';
import type { ServerStore } from '../store/server.ts';
import { DmHttpServer, sendNotification, type TrustedProxies } from '../transport/index.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { engineDeps, type ServerEvents } from './engine-deps.ts';
import { ServerService } from './service.ts';
import { followSharedStore } from './shared-store.ts';
import { GatewayService } from './gateways.ts';
import { ImageRepo } from './images.ts';
import { PushChannel } from './push-channel.ts';
import { handleEnrol } from './enrolment.ts';
import { DeviceJobs } from './device-jobs.ts';
import { Campaigns } from './campaigns.ts';
import { Distributions } from './distributions.ts';
import type { SessionTrace } from './trace.ts';
import { TraceShare } from './trace-share.ts';
import { countFollows } from './distribution-follow.ts';
import { DmMetrics } from './metrics.ts';
import { DmAuthGuard, type DmAuthLimits } from './dm-auth-guard.ts';
import { guardedDmBasic } from './dm-basic.ts';
import { FailureLimiter } from './failure-limiter.ts';
import type { FailureCounts } from '../store/auth.ts';
import { faultHttp, storeFaultOf } from '../store/health.ts';
import { HealthCheck } from './healthz.ts';
import { SessionForwarder } from './session-forward.ts';

export interface DmServerOptions {
  readonly store: ServerStore;
  readonly serverId: string;
  readonly host?: string;
  readonly port?: number;
  /** the URL devices reach us at (RespURI base); default: the listening address + /dm */
  readonly publicUrl?: string;
  /** the DM URL the other instances on the shared store reach this one at; default: the listening address + /dm */
  readonly internalUrl?: string;
  /** load balancers whose X-Forwarded-For names the device's address (lockout per address, logs) */
  readonly trustedProxies?: TrustedProxies;
  readonly maxMsgSize?: number;
  readonly sessionTimeoutMs?: number;
  /** ms a device has to answer a Package#0 before one keyed with the resync nonce follows (default 5 s) */
  readonly notifyResyncMs?: number;
  /** how often running campaigns are stepped (windows, a restart's leftovers; default 5 s) */
  readonly campaignTickMs?: number;
  /** a distribution not done and unchanged this long is checked for a cut start (default 60 s; src/server/distributions.ts recover) */
  readonly distributionGraceMs?: number;
  /** operations per server package at most */
  readonly maxOpsPerPackage?: number;
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly clock?: Clock;
  readonly events?: ServerEvents;
  /** REST API and other routes sharing the listener */
  readonly routes?: (
    service: ServerService,
    gateways: GatewayService,
    jobs: DeviceJobs,
    trace?: SessionTrace,
  ) => (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
  /** gateways presenting this at POST /enrol get an account (HLF-002) */
  readonly enrolmentSecret?: string;
  /** where uploaded images are kept; no image routes without it */
  readonly imageDir?: string;
  /** bytes all uploaded images may take together (default 10 GiB) */
  readonly imageQuotaBytes?: number;
  /** true when an API user (token or login cookie) allowed to read images made the request */
  readonly imageReader?: (req: IncomingMessage) => Promise<boolean>;
  /** lets a role (the gateway's LAN side) adjust what the engine gets from the store */
  readonly deps?: (base: ServerDeps) => ServerDeps;
  /** keeps recent sessions' messages for the trace viewer (GET /api/sessions) */
  readonly trace?: SessionTrace;
  /** where this instance counts (default: a registry of its own, role "server"); served at /metrics */
  readonly metrics?: DmMetrics;
  /** failed DM authentications: counts shared by the instances (default: this process's own) */
  readonly authFailures?: FailureCounts;
  readonly authLimits?: DmAuthLimits;
}

export class DmServer {
  readonly service: ServerService;
  readonly gateways: GatewayService;
  readonly jobs: DeviceJobs;
  readonly distributions: Distributions;
  readonly campaigns: Campaigns;
  readonly images: ImageRepo | undefined;
  readonly metrics: DmMetrics;
  readonly authGuard: DmAuthGuard;
  readonly health: HealthCheck;
  /** DM credentials over HTTP Basic (/push, /images), counted with the DM sessions' */
  private readonly dmBasic: ReturnType<typeof guardedDmBasic>;
  private readonly enrolLimiter: FailureLimiter;
  private push: PushChannel | undefined;
  private traceShare: TraceShare | undefined;
  private readonly options: DmServerOptions;
  private engine: ServerEngine | undefined;
  private http: DmHttpServer | undefined;
  private sweep: NodeJS.Timeout | undefined;
  url = '';
  /** the DM URL this instance listens at (differs from `url` with a public URL) */
  listenUrl = '';

  constructor(options: DmServerOptions) {
    this.options = options;
    const clock = options.clock ?? { now: () => Date.now() };
    this.metrics = options.metrics ?? new DmMetrics('server');
    this.service = new ServerService(
      options.store,
      clock,
      options.serverId,
      this.metrics.notifier({ send: sendNotification }),
      options.notifyResyncMs,
    );
    this.authGuard = new DmAuthGuard({
      clock,
      metrics: this.metrics,
      ...(options.authFailures ? { counts: options.authFailures } : {}),
      ...(options.authLimits ? { limits: options.authLimits } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    this.enrolLimiter = new FailureLimiter(options.authFailures);
    // the store's outages are logged here, once each way (store.unavailable warn, store.available info)
    if (options.log) options.store.health?.onChange(options.log);
    this.dmBasic = guardedDmBasic(this.authGuard, (id) => options.store.getDevice(id));
    this.images = options.imageDir
      ? new ImageRepo(options.imageDir, options.store.images, {
          dmBasic: this.dmBasic,
          ...(options.imageQuotaBytes !== undefined ? { quotaBytes: options.imageQuotaBytes } : {}),
          ...(options.imageReader ? { apiReader: options.imageReader } : {}),
        })
      : undefined;
    this.gateways = new GatewayService(this.service, options.store, this.images);
    this.jobs = new DeviceJobs(options.store, this.gateways, () => clock.now(), options.log);
    this.distributions = new Distributions(options.store, this.gateways, () => clock.now(), options.log);
    this.gateways.distributions = this.distributions;
    countFollows(this.metrics.registry, this.distributions.follower.counts);
    this.campaigns = new Campaigns(options.store, this.distributions, () => clock.now(), options.log);
    this.gateways.campaigns = this.campaigns;
    this.metrics.observe(() => this.activeSessions, this.images?.served);
    this.service.authState = (deviceId) => this.authGuard.state(deviceId);
    const store = options.store;
    this.health = new HealthCheck(store.ping ? (ms) => store.ping!(ms) : undefined, store.health);
  }

  async start(): Promise<string> {
    const clock = this.options.clock ?? { now: () => Date.now() };
    const maxMsgSize = this.options.maxMsgSize ?? 64 * 1024;
    const api = this.options.routes?.(this.service, this.gateways, this.jobs, this.options.trace) ?? (async () => false);
    const images = this.images;
    const push = new PushChannel(this.options.store, this.dmBasic);
    this.service.push = this.metrics.push(push);
    this.push = push;
    const routes = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
      if ((req.url ?? '').split('?')[0] === '/healthz') return this.health.serve(req, res).then(() => true);
      if ((req.url ?? '').split('?')[0] === '/metrics') return this.metrics.serve(req, res).then(() => true);
      if ((req.url ?? '').split('?')[0] === '/enrol') {
        await handleEnrol(req, res, this.service, this.options.enrolmentSecret, this.enrolLimiter, this.options.log);
        return true;
      }
      const p = /^\/push\/([^/?]+)$/.exec((req.url ?? '').split('?')[0]!);
      if (p && req.method === 'GET') {
        await push.handle(req, res, decodeURIComponent(p[1]!));
        return true;
      }
      const m = images ? /^\/images\/([^/]+)$/.exec((req.url ?? '').split('?')[0]!) : null;
      if (m) {
        await images!.serve(req, res, m[1]!);
        return true;
      }
      return api(req, res);
    };
    let engine: ServerEngine | undefined;
    const owners = this.options.store.sessionOwners;
    const forwarder = owners ? new SessionForwarder(owners, (outcome) => this.metrics.forward(outcome), this.options.log) : undefined;
    this.http = new DmHttpServer({
      host: this.options.host ?? '127.0.0.1',
      port: this.options.port ?? 0,
      maxMsgSize,
      ...(this.options.tls ? { tls: this.options.tls } : {}),
      ...(this.options.trustedProxies ? { trustedProxies: this.options.trustedProxies } : {}),
      handler: async (received) => {
        // another instance's session goes to it; its answer counts and is traced there
        const routed = forwarder ? await forwarder.route(received) : { req: received };
        if ('reply' in routed) return routed.reply;
        const req = routed.req;
        this.metrics.message('in', req.encoding, req.body.length);
        const reply = await engine!.handle(req);
        this.options.trace?.record(req, reply);
        if (!isRefusal(reply)) this.metrics.message('out', reply.encoding, reply.body.length);
        // a wrong credential is logged where it is counted (dm.auth.failed); a locked device's messages
        // are not logged one by one (a flood would fill the log): the lock was, and a metric counts them
        const refused = reply.refused;
        if (refused?.reason === 'missing-credentials')
          this.options.log?.('dm.auth.challenged', { deviceId: refused.deviceId, from: req.remoteAddress });
        else if (isRefusal(reply) && refused?.reason !== 'locked')
          this.options.log?.('dm.refused', {
            status: reply.httpStatus,
            message: reply.message,
            from: req.remoteAddress,
            ...(refused ? { reason: refused.reason } : {}),
          });
        else if (refused?.reason === 'version')
          this.options.log?.('dm.refused', { deviceId: refused.deviceId, from: req.remoteAddress, reason: 'version' });
        return reply;
      },
      fallback: routes,
      onError: (err) => this.options.log?.('http.error', { error: err instanceof Error ? err.stack : String(err) }),
      errorReply: (err, dm) => {
        // the database is away or full: DM clients retry after Retry-After (HTTP 503), the API says which (503/507)
        const fault = this.options.store.health?.failed(err) ?? storeFaultOf(err);
        if (!fault) return undefined;
        const http = faultHttp(fault, dm);
        return { httpStatus: http.status, message: http.error, retryAfter: http.retryAfter };
      },
    });
    const { url } = await this.http.listen();
    this.listenUrl = url;
    // sessions do not survive a restart: their unanswered operations are sent again
    await this.options.store.requeueAllSent(clock.now());
    followSharedStore(this.options.store, this.service, this.jobs, this.options.log);
    // traces with a shared store: any instance lists the fleet's sessions
    if (this.options.trace && this.options.store.traces && !this.options.trace.fleet)
      this.traceShare = new TraceShare(this.options.trace, this.options.store.traces, this.options.log);
    this.url = this.options.publicUrl ?? url;
    await owners?.advertise(this.options.internalUrl ?? url);
    this.gateways.publicBase = this.url.replace(/\/dm$/, '');
    const events = this.options.events ?? {};
    const base = engineDeps(this.options.store, clock, {
      ...events,
      operationDone: (op) => {
        this.service.operationChanged(op);
        events.operationDone?.(op);
      },
      sessionEnded: (deviceId, outcome, summary) => {
        this.options.trace?.ended(deviceId, outcome);
        if (summary?.requeued !== undefined) {
          this.options.log?.('dm.session.dropped', {
            deviceId,
            outcome,
            requeued: summary.requeued,
            inDoubt: summary.inDoubt,
            commandsPerMessage: summary.commandsPerMessage,
          });
        }
        events.sessionEnded?.(deviceId, outcome, summary);
      },
      serverAuthRefused: (deviceId, code, gaveUp) => {
        this.metrics.serverAuthRefused(gaveUp);
        this.options.log?.('dm.server-auth.refused', { deviceId, status: code, outcome: gaveUp ? 'gave-up' : 'resent' });
        events.serverAuthRefused?.(deviceId, code, gaveUp);
      },
      alertStored: (row) => {
        // a shared store tells every instance, this one included, through its change notifications
        if (!this.options.store.watch) this.service.alertFeed.publish(row);
        events.alertStored?.(row);
      },
      notifyAddressIgnored: (deviceId, reported, reason) => {
        this.options.log?.('notify.address-ignored', { deviceId, reported, reason });
        events.notifyAddressIgnored?.(deviceId, reported, reason);
      },
      alert: (deviceId, alert) => {
        this.metrics.alert(deviceId, alert);
        void this.jobs.onAlert(deviceId, alert).catch((err) => this.options.log?.('job.error', { error: String(err) }));
        void this.distributions.onAlert(deviceId, alert).catch((err) => this.options.log?.('distribution.error', { error: String(err) }));
        // an image's staging is settled before anyone hears of its alert
        const staging = this.images
          ?.onImageReady(deviceId, alert)
          ?.catch((err) => this.options.log?.('image.error', { error: String(err) }));
        if (staging) void staging.then(() => events.alert?.(deviceId, alert));
        else events.alert?.(deviceId, alert);
      },
    });
    const deps = this.metrics.deps(this.options.deps ? this.options.deps(base) : base);
    const log = this.options.log;
    const onWarnings =
      deps.onWarnings ??
      (log
        ? (deviceId: string, warnings: readonly { code: string; message: string }[]) => log('dm.lenient', { deviceId, warnings })
        : undefined);
    engine = new ServerEngine(
      { ...deps, authGuard: this.authGuard, ...(onWarnings ? { onWarnings } : {}) },
      {
        serverId: this.options.serverId,
        url: this.url,
        maxMsgSize,
        ...(forwarder ? { keyPrefix: forwarder.keyPrefix } : {}),
        ...(this.options.sessionTimeoutMs ? { sessionTimeoutMs: this.options.sessionTimeoutMs } : {}),
        ...(this.options.maxOpsPerPackage ? { maxOpsPerPackage: this.options.maxOpsPerPackage } : {}),
      },
    );
    this.engine = engine;
    const every = Math.min(30_000, Math.max(1000, (this.options.sessionTimeoutMs ?? 300_000) / 4));
    this.sweep = setInterval(() => void engine.expire(), every);
    this.sweep.unref();
    this.campaigns.startTicking(this.options.campaignTickMs ?? 5000);
    this.distributions.startTicking(this.options.campaignTickMs ?? 5000, this.options.distributionGraceMs ?? 60_000);
    return this.url;
  }

  get activeSessions(): number {
    return this.engine?.activeSessions ?? 0;
  }

  /**
   * Before a stop for an upgrade: /healthz says "draining" so the balancer sends new sessions
   * elsewhere, while this instance keeps serving (its own sessions, forwarded or not). Resolves once
   * no DM session has been open for `quietMs` (the balancer has had its checks by then), or after `maxMs`.
   */
  async drain(maxMs: number, quietMs = 3000): Promise<void> {
    this.health.draining = true;
    const until = Date.now() + maxMs;
    let quietSince = Date.now();
    while (Date.now() < until) {
      if (this.activeSessions > 0) quietSince = Date.now();
      else if (Date.now() - quietSince >= quietMs) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    this.campaigns.stop();
    this.distributions.stop();
    this.service.notifyWatch.close();
    this.push?.close();
    await this.http?.close();
    await this.engine?.close();
    await this.traceShare?.flush();
  }
}
