// The API behind authentication: a bearer token or the dashboard's login cookie on every /api/
// request (the OpenAPI document and the login itself excepted), a role check, and the routes for
// logins, users and tokens. Changes are logged with who made them.
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { TokenRow } from '../../store/auth.ts';
import { storeFaultOf } from '../../store/health.ts';
import { ApiError, audited, field, readJson, sendJson, sendStoreFault } from '../http-json.ts';
import { verifyPassword } from './passwords.ts';
import { identifierProblem } from '../../server/identifiers.ts';
import { atLeast, isRole, requiredRole } from './roles.ts';
import { LockedOut, type AuthService, type Principal } from './service.ts';

export const SESSION_COOKIE = 'gwmo_session';

type ApiHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
type Handler = (req: IncomingMessage, res: ServerResponse, who: Principal, params: string[], url: URL) => Promise<void>;

export interface SecuredApiOptions {
  /** HTTPS: the login cookie gets `Secure` */
  readonly secureCookie?: boolean;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      // our cookie values are base64url: a value that does not decode is no session (401, not 500)
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function presented(req: IncomingMessage): { token: string; via: 'bearer' | 'cookie' } | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (m) return { token: m[1]!, via: 'bearer' };
  const c = cookie(req, SESSION_COOKIE);
  return c ? { token: c, via: 'cookie' } : undefined;
}

/** Who made a request, by its bearer token or login cookie (for routes outside /api/, such as image downloads). */
export async function principalOf(auth: AuthService, req: IncomingMessage): Promise<Principal | undefined> {
  const cred = presented(req);
  return cred ? auth.authenticate(cred.token) : undefined;
}

/** A cookie rides along with any request the browser makes: changes must come from our own pages. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return req.headers['sec-fetch-site'] === undefined || req.headers['sec-fetch-site'] === 'same-origin';
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function tokenView(t: TokenRow): Record<string, unknown> {
  const iso = (v?: number): string | null => (v === undefined ? null : new Date(v).toISOString());
  return {
    id: t.id,
    user: t.user,
    kind: t.kind,
    label: t.label,
    role: t.role ?? null,
    createdAt: iso(t.createdAt),
    expiresAt: iso(t.expiresAt),
    revokedAt: iso(t.revokedAt),
    lastUsedAt: iso(t.lastUsedAt),
  };
}

export function securedApi(auth: AuthService, inner: ApiHandler, options: SecuredApiOptions = {}): ApiHandler {
  const setCookie = (res: ServerResponse, value: string, maxAge: number): void => {
    res.setHeader(
      'set-cookie',
      `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${options.secureCookie ? '; Secure' : ''}`,
    );
  };
  const userView = (u: { name: string; role: string; createdAt: number }) => ({
    name: u.name,
    role: u.role,
    createdAt: new Date(u.createdAt).toISOString(),
  });

  const routes: [string, RegExp, Handler][] = [
    [
      'POST',
      /^\/api\/logout$/,
      async (_q, res, who) => {
        await auth.store.revokeToken(who.tokenId, Date.now());
        if (who.kind === 'login') setCookie(res, '', 0);
        res.writeHead(204).end();
      },
    ],
    ['GET', /^\/api\/me$/, async (_q, res, who) => sendJson(res, 200, { user: who.user, role: who.role, via: who.kind })],
    [
      'PUT',
      /^\/api\/me\/password$/,
      async (req, res, who) => {
        const b = await readJson(req);
        const current = field(b, 'current', 'string', true)!;
        const user = await auth.store.getUser(who.user);
        if (!user || !(await verifyPassword(current, user.passwordHash))) throw new ApiError(403, 'current password is wrong');
        await auth.updateUser(who.user, { password: field(b, 'password', 'string', true)! });
        res.writeHead(204).end();
      },
    ],
    ['GET', /^\/api\/users$/, async (_q, res) => sendJson(res, 200, { items: (await auth.store.listUsers()).map(userView) })],
    [
      'POST',
      /^\/api\/users$/,
      async (req, res) => {
        const b = await readJson(req);
        const role = field(b, 'role', 'string', true);
        if (!isRole(role)) throw new ApiError(400, 'role must be viewer, operator or admin');
        sendJson(res, 201, userView(await auth.createUser(field(b, 'name', 'string', true)!, role, field(b, 'password', 'string', true)!)));
      },
    ],
    [
      'PUT',
      /^\/api\/users\/([^/]+)$/,
      async (req, res, who, [name]) => {
        const b = await readJson(req);
        const role = field(b, 'role', 'string');
        if (role !== undefined && !isRole(role)) throw new ApiError(400, 'role must be viewer, operator or admin');
        if (name === who.user && role !== undefined && role !== 'admin')
          throw new ApiError(409, 'an admin cannot take the admin role from themselves');
        const password = field(b, 'password', 'string');
        sendJson(
          res,
          200,
          userView(await auth.updateUser(name!, { ...(role ? { role } : {}), ...(password !== undefined ? { password } : {}) })),
        );
      },
    ],
    [
      'DELETE',
      /^\/api\/users\/([^/]+)$/,
      async (_q, res, who, [name]) => {
        if (name === who.user) throw new ApiError(409, 'an admin cannot delete themselves');
        if (!(await auth.store.deleteUser(name!, Date.now()))) throw new ApiError(404, `no user ${name}`);
        res.writeHead(204).end();
      },
    ],
    [
      'GET',
      /^\/api\/tokens$/,
      async (_q, res, who, _p, url) => {
        const all = url.searchParams.get('all') === 'true';
        if (all && who.role !== 'admin') throw new ApiError(403, "admin role needed to list every user's tokens");
        sendJson(res, 200, { items: (await auth.store.listTokens(all ? undefined : who.user)).map(tokenView) });
      },
    ],
    [
      'POST',
      /^\/api\/tokens$/,
      async (req, res, who) => {
        const b = await readJson(req);
        const role = field(b, 'role', 'string');
        if (role !== undefined && !isRole(role)) throw new ApiError(400, 'role must be viewer, operator or admin');
        const label = field(b, 'label', 'string', true)!;
        const problem = identifierProblem(label, 'label', 'name');
        if (problem) throw new ApiError(400, problem);
        // a token never holds more than the caller: asking for more is refused, not quietly lowered
        if (role !== undefined && !atLeast(who.role, role))
          throw new ApiError(403, `a token with the ${role} role needs that role; ${who.user} has ${who.role} here`);
        const { token, row } = await auth.issue(who.user, 'api', label, role);
        sendJson(res, 201, { ...tokenView(row), token });
      },
    ],
    [
      'DELETE',
      /^\/api\/tokens\/([^/]+)$/,
      async (_q, res, who, [id]) => {
        const t = await auth.store.getToken(id!);
        if (!t || (t.user !== who.user && who.role !== 'admin')) throw new ApiError(404, `no token ${id}`);
        await auth.store.revokeToken(id!, Date.now());
        res.writeHead(204).end();
      },
    ],
  ];

  const login = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const b = await readJson(req);
    const name = field(b, 'name', 'string', true)!;
    try {
      const { token, principal, expiresAt } = await auth.login(name, field(b, 'password', 'string', true)!, req.socket.remoteAddress ?? '');
      setCookie(res, token, Math.floor((expiresAt - Date.now()) / 1000));
      options.log?.('auth.login', { user: name, from: req.socket.remoteAddress });
      sendJson(res, 200, { user: principal.user, role: principal.role, expiresAt: new Date(expiresAt).toISOString() });
    } catch (err) {
      options.log?.('auth.login-failed', { user: name, from: req.socket.remoteAddress, status: (err as ApiError).status });
      if (err instanceof LockedOut) res.setHeader('retry-after', Math.ceil(err.retryAfterMs / 1000));
      throw err;
    }
  };

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (!path.startsWith('/api/') || path === '/api/openapi.json') return inner(req, res);
    try {
      if (path === '/api/login') {
        if (method !== 'POST') throw new ApiError(405, 'POST your name and password to /api/login');
        await login(req, res);
        return true;
      }
      const cred = presented(req);
      const who = cred ? await auth.authenticate(cred.token) : undefined;
      if (!who) {
        res.setHeader('www-authenticate', 'Bearer realm="gwmo"');
        throw new ApiError(
          401,
          cred ? 'the token is unknown, expired or revoked' : 'log in (POST /api/login) or send Authorization: Bearer <token>',
        );
      }
      const reads = method === 'GET' || method === 'HEAD';
      if (cred!.via === 'cookie' && !reads && !sameOrigin(req))
        throw new ApiError(403, "a change with the login cookie must come from the dashboard's own origin");
      const need = requiredRole(method, path);
      if (!atLeast(who.role, need)) throw new ApiError(403, `${method} ${path} needs the ${need} role; ${who.user} has ${who.role}`);
      if (!reads)
        res.on('finish', () =>
          options.log?.('api.change', { user: who.user, token: who.tokenId, method, path, status: res.statusCode, ...audited(res) }),
        );
      const matching = routes.filter(([, re]) => re.test(path));
      const route = matching.find(([m]) => m === method);
      if (matching.length > 0 && !route) {
        res.setHeader('allow', matching.map(([m]) => m).join(', '));
        throw new ApiError(405, `${method} is not allowed on ${path}`);
      }
      if (route) {
        await route[2](
          req,
          res,
          who,
          route[1]
            .exec(path)!
            .slice(1)
            .map((p) => decodeURIComponent(p)),
          url,
        );
        return true;
      }
      return await inner(req, res);
    } catch (err) {
      if (!(err instanceof ApiError)) {
        // the token lookup found no database: said in JSON like the API's own answers
        const fault = storeFaultOf(err);
        if (fault && !res.headersSent) sendStoreFault(res, fault);
        throw err;
      }
      sendJson(res, err.status, { error: err.message });
      return true;
    }
  };
}
