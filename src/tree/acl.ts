// ACLs (digest §8.4): `Add=a+b&Get=*`, per server id, inherited all-or-nothing from the nearest
// ancestor that has one; the root always has one.
export type AclCommand = 'Add' | 'Delete' | 'Exec' | 'Get' | 'Replace';
const COMMANDS: ReadonlySet<string> = new Set(['Add', 'Delete', 'Exec', 'Get', 'Replace']);
const SERVER = /^(\*|[^\s=&*+]+)$/;

export const ROOT_DEFAULT_ACL = 'Add=*&Get=*';

export type Acl = ReadonlyMap<AclCommand, ReadonlySet<string>>;

/** The parsed ACL, or undefined when the text is not a valid ACL. */
export function parseAcl(text: string): Acl | undefined {
  const acl = new Map<AclCommand, Set<string>>();
  if (text === '') return acl;
  for (const entry of text.split('&')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) return undefined;
    const cmd = entry.slice(0, eq);
    const servers = entry.slice(eq + 1).split('+');
    if (!COMMANDS.has(cmd) || servers.some((s) => !SERVER.test(s))) return undefined;
    const set = acl.get(cmd as AclCommand) ?? new Set<string>();
    for (const s of servers) set.add(s);
    acl.set(cmd as AclCommand, set);
  }
  return acl;
}

export function formatAcl(acl: Acl): string {
  return [...acl]
    .filter(([, s]) => s.size > 0)
    .map(([cmd, servers]) => `${cmd}=${[...servers].join('+')}`)
    .join('&');
}

export function allows(acl: Acl, cmd: AclCommand, serverId: string): boolean {
  const servers = acl.get(cmd);
  return servers !== undefined && (servers.has('*') || servers.has(serverId));
}
