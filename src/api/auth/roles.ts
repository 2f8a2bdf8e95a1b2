// Who may do what: viewer reads, operator acts on devices, admin manages gateways, accounts, users.
import type { Role } from '../../store/auth.ts';

export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

export const isRole = (v: unknown): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v);

export const atLeast = (have: Role, need: Role): boolean => ROLES.indexOf(have) >= ROLES.indexOf(need);

/** the lower of two roles */
export const lowest = (a: Role, b: Role): Role => (ROLES.indexOf(a) <= ROLES.indexOf(b) ? a : b);

// account-level changes: DM accounts of devices and gateways, a gateway's configuration, users
const ADMIN: readonly [string, RegExp][] = [
  ['POST', /^\/api\/devices$/],
  ['PATCH', /^\/api\/devices\/[^/]+$/],
  ['DELETE', /^\/api\/devices\/[^/]+$/],
  ['PUT', /^\/api\/gateways\/[^/]+\/config$/],
  ['*', /^\/api\/users(\/|$)/],
];

// one's own login, password and tokens
const SELF = /^\/api\/(me(\/|$)|logout$|tokens(\/|$))/;

/** the role a request needs; reads are for viewers, every other change for operators */
export function requiredRole(method: string, path: string): Role {
  if (ADMIN.some(([m, re]) => (m === '*' || m === method) && re.test(path))) return 'admin';
  if (SELF.test(path)) return 'viewer';
  return method === 'GET' || method === 'HEAD' ? 'viewer' : 'operator';
}
