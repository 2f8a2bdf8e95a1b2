// Authentication for the server's API as the CLI sets it up: users and tokens next to the server's
// data; on first start an `admin` whose password comes from GWMO_ADMIN_PASSWORD or is generated and
// shown once; GWMO_ADMIN_TOKEN provisions a token for scripts and tests.
import type { IncomingMessage, ServerResponse } from 'node:http';

import { principalOf, securedApi } from '../api/auth/routes.ts';
import { AuthService, MIN_PASSWORD } from '../api/auth/service.ts';
import { apiRoutes } from '../api/routes.ts';
import type { DeviceJobs } from '../server/device-jobs.ts';
import type { GatewayService } from '../server/gateways.ts';
import type { ServerService } from '../server/service.ts';
import type { SessionTrace } from '../server/trace.ts';
import { dashboardRoutes } from '../web/serve.ts';
import type { AuthStore } from '../store/auth.ts';
import { CliError } from './cli-error.ts';

export interface ApiAuth {
  readonly auth: AuthService;
  /** the admin made on this start, with the password to show once */
  readonly created?: { name: string; password: string; generated: boolean };
  readonly routes: (
    s: ServerService,
    g: GatewayService,
    j: DeviceJobs,
    t?: SessionTrace,
  ) => (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /** an API user made the request (every role reads images) */
  readonly imageReader: (req: IncomingMessage) => Promise<boolean>;
  close(): void;
}

export async function openApiAuth(
  store: AuthStore,
  options: { secureCookie?: boolean; log?: (e: string, f: Record<string, unknown>) => void; adminPassword?: string } = {},
): Promise<ApiAuth> {
  const envPassword = options.adminPassword ?? process.env['GWMO_ADMIN_PASSWORD'];
  if (envPassword !== undefined && envPassword.length < MIN_PASSWORD)
    throw new CliError(`GWMO_ADMIN_PASSWORD must have at least ${MIN_PASSWORD} characters`);
  const auth = new AuthService(store);
  const token = process.env['GWMO_ADMIN_TOKEN'];
  if (token !== undefined && token.length < 16) throw new CliError('GWMO_ADMIN_TOKEN must have at least 16 characters');
  const firstStart = async (): Promise<Awaited<ReturnType<AuthService['firstAdmin']>>> => {
    const made = await auth.firstAdmin(envPassword);
    if (token !== undefined && (await store.getUser('admin'))) await auth.provisionToken('admin', token, 'GWMO_ADMIN_TOKEN');
    return made;
  };
  // instances sharing one database and starting together: one makes the admin, the others see it
  const created = await (store.exclusive ? store.exclusive(firstStart) : firstStart());
  return {
    auth,
    ...(created ? { created: { ...created, generated: envPassword === undefined } } : {}),
    routes: (s, g, j, t) => {
      const api = securedApi(auth, apiRoutes(s, g, j, t), options);
      const web = dashboardRoutes();
      return async (req, res) => (await web(req, res)) || api(req, res);
    },
    imageReader: async (req) => (await principalOf(auth, req)) !== undefined,
    close: () => store.close(),
  };
}
