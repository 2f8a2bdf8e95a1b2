// `gwmo server`: the DM server with its API and dashboard, loaded only when that command runs.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { DmServer } from '../../server/dm-server.ts';
import { Pruner, type ServerRetention, storeSteps, tokenStep } from '../../server/retention.ts';
import { SessionTrace } from '../../server/trace.ts';
import { TrustedProxies } from '../../transport/index.ts';
import { DbUrlError, openServerStores, parseDb, redact } from '../../store/open.ts';
import { openApiAuth } from '../api-auth.ts';
import { CliError } from '../cli-error.ts';
import { byteSize, count, port, positive } from '../options.ts';
import { jsonLog, onShutdown } from '../shutdown.ts';

export interface ServerFlags {
  host: string;
  port: string;
  dataDir: string;
  db?: string;
  dbPool: string;
  serverId: string;
  publicUrl?: string;
  internalUrl?: string;
  trustedProxy: string[];
  drain: string;
  maxMsgSize: string;
  sessionTimeout: string;
  tlsCert?: string;
  tlsKey?: string;
  enrolmentSecret?: string;
  metricsToken?: string;
  imageQuota: string;
  keepOperations: string;
  keepOperationsPerDevice: string;
  keepAlerts: string;
  keepAlertsPerDevice: string;
  keepDeviceJobs: string;
  keepTokens: string;
  retentionEvery: string;
}

function retentionOf(flags: ServerFlags): ServerRetention {
  const whole = (name: string, text: string): number => Math.floor(positive(name, text));
  return {
    operations: {
      days: positive('--keep-operations', flags.keepOperations),
      perDevice: whole('--keep-operations-per-device', flags.keepOperationsPerDevice),
    },
    alerts: { days: positive('--keep-alerts', flags.keepAlerts), perDevice: whole('--keep-alerts-per-device', flags.keepAlertsPerDevice) },
    deviceJobs: { days: positive('--keep-device-jobs', flags.keepDeviceJobs) },
  };
}

export async function runServer(flags: ServerFlags): Promise<void> {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new CliError('--tls-cert and --tls-key go together');
  let trustedProxies: TrustedProxies | undefined;
  const proxies = [...flags.trustedProxy, ...(process.env['GWMO_TRUSTED_PROXIES'] ?? '').split(',')].filter((p) => p.trim() !== '');
  try {
    trustedProxies = proxies.length > 0 ? new TrustedProxies(proxies) : undefined;
  } catch (err) {
    throw new CliError(`--trusted-proxy: ${err instanceof Error ? err.message : String(err)}`);
  }
  let db: ReturnType<typeof parseDb>;
  try {
    db = parseDb(flags.db ?? join(flags.dataDir, 'server.db'));
  } catch (err) {
    if (err instanceof DbUrlError) throw new CliError(err.message);
    throw err;
  }
  if (flags.db === undefined) mkdirSync(flags.dataDir, { recursive: true });
  let tls: { cert: Buffer; key: Buffer } | undefined;
  try {
    if (flags.tlsCert && flags.tlsKey) tls = { cert: readFileSync(flags.tlsCert), key: readFileSync(flags.tlsKey) };
  } catch (err) {
    throw new CliError(`cannot read the TLS files: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const maxMsgSize = positive('--max-msg-size', flags.maxMsgSize);
  const drainMs = flags.drain === '0' ? 0 : count('--drain', flags.drain, 3600) * 1000;
  const imageQuotaBytes = byteSize('--image-quota', flags.imageQuota);
  const poolSize = count('--db-pool', flags.dbPool, 1000);
  const retention = retentionOf(flags);
  const keepTokens = positive('--keep-tokens', flags.keepTokens);
  const retentionEveryMs = positive('--retention-every', flags.retentionEvery) * 1000;
  const log = jsonLog('server');
  const stores = await openServerStores(db, { log, poolSize }).catch((err: unknown) => {
    throw new CliError(err instanceof Error ? err.message : String(err), 1);
  });
  const store = stores.server;
  const access = await openApiAuth(stores.auth, { secureCookie: tls !== undefined, log });
  if (access.created) {
    log('auth.admin-created', {
      user: access.created.name,
      password: access.created.generated ? 'shown once on stderr' : 'from GWMO_ADMIN_PASSWORD',
    });
    if (access.created.generated)
      process.stderr.write(
        `gwmo: created the API user "admin" with password ${access.created.password} (shown once; change it with PUT /api/me/password)\n`,
      );
  }
  const server = new DmServer({
    store,
    serverId: flags.serverId,
    host: flags.host,
    port: port('--port', flags.port),
    maxMsgSize,
    ...(db.kind === 'sqlite' && db.path === ':memory:'
      ? {}
      : { imageDir: join(db.kind === 'sqlite' && flags.db ? join(db.path, '..') : flags.dataDir, 'images') }),
    sessionTimeoutMs: positive('--session-timeout', flags.sessionTimeout) * 1000,
    routes: access.routes,
    log,
    trace: new SessionTrace(),
    imageQuotaBytes,
    imageReader: access.imageReader,
    // failed DM authentications counted where failed logins are: shared by the instances on PostgreSQL
    ...(stores.auth.loginFailures ? { authFailures: stores.auth.loginFailures } : {}),
    ...(flags.publicUrl ? { publicUrl: flags.publicUrl } : {}),
    ...(flags.internalUrl ? { internalUrl: flags.internalUrl } : {}),
    ...(trustedProxies ? { trustedProxies } : {}),
    ...(tls ? { tls } : {}),
    ...((flags.enrolmentSecret ?? process.env['GWMO_ENROLMENT_SECRET'])
      ? { enrolmentSecret: (flags.enrolmentSecret ?? process.env['GWMO_ENROLMENT_SECRET'])! }
      : {}),
    events: {
      operationDone: (op) => log('operation.done', { id: op.id, deviceId: op.deviceId, kind: op.kind, path: op.target, status: op.status }),
      sessionEnded: (deviceId, outcome) => log('session.end', { deviceId, outcome }),
    },
  });
  server.metrics.token = flags.metricsToken;
  let url: string;
  try {
    url = await server.start();
  } catch (err) {
    await stores.close();
    throw new CliError(`cannot listen on ${flags.host}:${flags.port}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const api = url.replace(/\/dm$/, '/api');
  const pruner = new Pruner({
    steps: [...storeSteps(store, () => retention), tokenStep(stores.auth, () => keepTokens)],
    intervalMs: retentionEveryMs,
    registry: server.metrics.registry,
    log,
  });
  pruner.start();
  log('server.started', {
    dm: url,
    api,
    ...(server.listenUrl !== url ? { listen: server.listenUrl } : {}),
    serverId: flags.serverId,
    db: db.kind === 'sqlite' ? db.path : redact(db.url),
  });
  onShutdown(async () => {
    if (drainMs > 0) {
      log('server.draining', { sessions: server.activeSessions, upToSeconds: drainMs / 1000 });
      await server.drain(drainMs);
    }
    await pruner.stop();
    await server.stop();
    await stores.close();
  }, drainMs + 5000);
}
