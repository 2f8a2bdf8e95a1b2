// A server with its API behind real authentication (users admin, operator, viewer with API tokens),
// the dashboard, an image folder, and a checked-in gateway with image folders of its own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { principalOf, securedApi } from '../../src/api/auth/routes.ts';
import { AuthService } from '../../src/api/auth/service.ts';
import { apiRoutes } from '../../src/api/routes.ts';
import { SqliteAuthStore } from '../../src/store/sqlite/auth.ts';
import { dashboardRoutes } from '../../src/web/serve.ts';
import { startGateway, startServer } from './gw-pair.ts';

export const ADMIN_PASSWORD = 'admin-password-1';

/** The users admin (ADMIN_PASSWORD), operator and viewer (`<role>-password`), and an API token of each. */
export async function provisionUsers(auth: AuthService): Promise<Record<string, string>> {
  await auth.firstAdmin(ADMIN_PASSWORD);
  for (const role of ['viewer', 'operator'] as const) await auth.createUser(role, role, `${role}-password`);
  const tokens: Record<string, string> = {};
  for (const name of ['admin', 'viewer', 'operator']) tokens[name] = (await auth.issue(name, 'api', 'test')).token;
  return tokens;
}

export async function startSecuredRig(t: { after(fn: () => unknown): void }, o: { imageQuotaBytes?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-secured-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new SqliteAuthStore(':memory:');
  t.after(() => store.close());
  const auth = new AuthService(store);
  const web = dashboardRoutes();
  const srv = await startServer({
    imageDir: join(dir, 'server'),
    ...o,
    routes: (s, g, j) => {
      const api = securedApi(auth, apiRoutes(s, g, j));
      return async (req, res) => (await web(req, res)) || api(req, res);
    },
    imageReader: async (req) => (await principalOf(auth, req)) !== undefined,
  });
  t.after(() => srv.close());
  const gw = await startGateway(srv.url, { imageDir: join(dir, 'gateway') });
  t.after(() => gw.close());
  await gw.gateway.checkIn();
  const tokens = await provisionUsers(auth);
  const base = srv.url.replace(/\/dm$/, '');
  /** an API call as `who` (a user name, or undefined for nobody) */
  const call = async (who: string | undefined, method: string, path: string, body?: unknown, raw?: { bytes: Uint8Array; type: string }) => {
    const headers: Record<string, string> = who ? { authorization: `Bearer ${tokens[who]}` } : {};
    if (raw) headers['content-type'] = raw.type;
    else if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}/api${path}`, {
      method,
      headers,
      ...(raw ? { body: raw.bytes } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  return { dir, srv, gw, auth, store, tokens, base, call };
}
