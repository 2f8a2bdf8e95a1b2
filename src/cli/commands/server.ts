// `gwmo server`'s options; the code that runs it is imported by the action (../run/server.ts).
import type { Command } from 'commander';

import type { ServerFlags } from '../run/server.ts';

export function registerServer(program: Command): void {
  program
    .command('server')
    .description('run a DM server: DM sessions over HTTP(S) at /dm and the REST API at /api (see /api/openapi.json)')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'TCP port (0 = any free port)', '8080')
    .option('--data-dir <dir>', 'where server.db is kept', './data')
    .option(
      '--db <url>',
      'sqlite:<file> (default <data-dir>/server.db; ":memory:" keeps nothing) or postgres://user:password@host:5432/db, shared by several server instances',
    )
    .option(
      '--db-pool <n>',
      'connections this instance keeps to PostgreSQL for transactions (a DM message that takes or files operations holds one while it runs; check-ins share one more); instances on one database split the total between them',
      '10',
    )
    .option('--server-id <id>', "this server's ServerID (what devices have in DMAcc and Package#0)", 'gwmo')
    .option('--public-url <url>', 'URL devices reach the DM endpoint at (default: the listening address + /dm)')
    .option(
      '--internal-url <url>',
      'URL the other instances on the same --db reach this DM endpoint at, to forward it the messages of its sessions (default: the listening address + /dm)',
    )
    .option(
      '--trusted-proxy <cidr>',
      "a load balancer's address or network (repeatable; env GWMO_TRUSTED_PROXIES, comma-separated): its X-Forwarded-For names the device's address, which the DM auth lockout counts and the log shows; anyone else's is ignored",
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option(
      '--drain <seconds>',
      'on SIGTERM: /healthz answers 503 "draining" at once, DM sessions keep being served, and the instance stops when none has been open for 3 s, or after this long',
      '0',
    )
    .option('--max-msg-size <bytes>', 'largest DM message accepted (MaxMsgSize)', '65536')
    .option('--session-timeout <seconds>', 'idle DM sessions are dropped after this', '300')
    .option('--enrolment-secret <secret>', 'gateways presenting it at POST /enrol get an account (env GWMO_ENROLMENT_SECRET)')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--metrics-token <token>', 'GET /metrics needs "authorization: Bearer <token>" (default: open)')
    .option(
      '--image-quota <size>',
      'room all uploaded images may take together (each content counted once), e.g. 500MiB; an upload past it gets 413',
      '10GiB',
    )
    .option('--keep-operations <days>', 'finished operations (done, failed) are deleted this many days after they finished (0: kept)', '30')
    .option('--keep-operations-per-device <n>', "a device's finished operations beyond its newest n are deleted (0: no limit)", '200')
    .option('--keep-alerts <days>', 'alerts devices sent are deleted after this many days (0: kept)', '30')
    .option(
      '--keep-alerts-per-device <n>',
      "a device's alerts beyond its newest n are deleted (0: no limit); a gateway's count holds its whole fleet's alerts",
      '10000',
    )
    .option('--keep-device-jobs <days>', 'finished device jobs are deleted this many days after they finished (0: kept)', '30')
    .option(
      '--keep-tokens <days>',
      'API tokens (dashboard logins too) are deleted this many days after they expired or were revoked (0: kept)',
      '30',
    )
    .option('--retention-every <seconds>', 'how often history past the --keep-* limits is deleted, in small batches (0: never)', '600')
    .action(async (flags: ServerFlags) => (await import('../run/server.ts')).runServer(flags));
}
