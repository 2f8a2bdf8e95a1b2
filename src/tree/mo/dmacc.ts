// ./DMAcc/<x>: the DM 1.2 account MO (digest §8.6), one per server. Secrets and nonces have no Get.
import type { Tree } from '../tree.ts';

export type AAuthType = 'BASIC' | 'DIGEST' | 'HMAC';

export interface AppAuth {
  readonly type: AAuthType;
  readonly name: string;
  readonly secret: string;
  /** the nonce for this direction (bytes) */
  readonly data?: Uint8Array;
}

export interface DmAccount {
  /** the node name under ./DMAcc */
  readonly id: string;
  readonly serverId: string;
  readonly name?: string;
  /** the server's URL */
  readonly addr: string;
  readonly authPref?: AAuthType;
  /** CLCRED: how the client proves itself */
  readonly client: AppAuth;
  /** SRVCRED: how the server must prove itself (optional) */
  readonly server?: AppAuth;
}

const NO_GET = ['Add', 'Replace', 'Delete'] as const;

export function addAccount(tree: Tree, acc: DmAccount): void {
  const base = `./DMAcc/${acc.id}`;
  tree.define('./DMAcc', { format: 'node', permanent: true });
  // only the account's own server may read or change it
  const s = acc.serverId;
  tree.define(base, { format: 'node', type: 'urn:oma:mo:oma-dm-dmacc:1.0', acl: `Get=${s}&Add=${s}&Replace=${s}&Delete=${s}` });
  tree.define(`${base}/AppID`, { value: 'w7' });
  tree.define(`${base}/ServerID`, { value: acc.serverId });
  if (acc.name !== undefined) tree.define(`${base}/Name`, { value: acc.name });
  tree.define(`${base}/AppAddr/1/Addr`, { value: acc.addr });
  tree.define(`${base}/AppAddr/1/AddrType`, { value: 'URI' });
  tree.define(`${base}/AAuthPref`, { value: acc.authPref ?? acc.client.type });
  const auth = (key: string, level: 'CLCRED' | 'SRVCRED', a: AppAuth): void => {
    tree.define(`${base}/AppAuth/${key}/AAuthLevel`, { value: level });
    tree.define(`${base}/AppAuth/${key}/AAuthType`, { value: a.type });
    tree.define(`${base}/AppAuth/${key}/AAuthName`, { value: a.name });
    tree.define(`${base}/AppAuth/${key}/AAuthSecret`, { value: a.secret, access: NO_GET });
    tree.define(`${base}/AppAuth/${key}/AAuthData`, { format: 'bin', value: a.data ?? new Uint8Array(0), access: NO_GET });
  };
  auth('toserver', 'CLCRED', acc.client);
  if (acc.server) auth('toclient', 'SRVCRED', acc.server);
}

export function readAccounts(tree: Tree): DmAccount[] {
  return tree.list('./DMAcc').flatMap((id) => {
    const base = `./DMAcc/${id}`;
    const text = (p: string): string | undefined => {
      const v = tree.read(`${base}/${p}`);
      return typeof v === 'string' ? v : undefined;
    };
    const serverId = text('ServerID');
    const addr = text(`AppAddr/${tree.list(`${base}/AppAddr`)[0] ?? '1'}/Addr`);
    if (serverId === undefined || addr === undefined) return [];
    let client: AppAuth | undefined;
    let server: AppAuth | undefined;
    for (const key of tree.list(`${base}/AppAuth`)) {
      const at = `AppAuth/${key}`;
      const data = tree.read(`${base}/${at}/AAuthData`);
      const a: AppAuth = {
        type: (text(`${at}/AAuthType`) ?? 'DIGEST') as AAuthType,
        name: text(`${at}/AAuthName`) ?? '',
        secret: text(`${at}/AAuthSecret`) ?? '',
        ...(data instanceof Uint8Array && data.length > 0 ? { data } : {}),
      };
      if (text(`${at}/AAuthLevel`) === 'CLCRED') client = a;
      else if (text(`${at}/AAuthLevel`) === 'SRVCRED') server = a;
    }
    if (!client) return [];
    const name = text('Name');
    const pref = text('AAuthPref') as AAuthType | undefined;
    return [
      {
        id,
        serverId,
        addr,
        client,
        ...(server ? { server } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(pref ? { authPref: pref } : {}),
      },
    ];
  });
}

/** Stores the nonce for one direction (CLCRED: the next one we use; SRVCRED: the one we expect). */
export function writeNonce(tree: Tree, accountId: string, level: 'CLCRED' | 'SRVCRED', nonce: Uint8Array): void {
  const base = `./DMAcc/${accountId}/AppAuth`;
  for (const key of tree.list(base)) {
    // no Get, as addAccount defines it: an account added by DM commands (a bootstrap) may lack the leaf
    if (tree.read(`${base}/${key}/AAuthLevel`) === level)
      tree.define(`${base}/${key}/AAuthData`, { format: 'bin', value: nonce, access: NO_GET });
  }
}

/**
 * The account for `serverId` as configuration says (a device or gateway starting up), keeping the
 * nonces earlier sessions agreed on; the server gets every right on the tree outside the
 * read-only objects.
 */
export function provisionAccount(
  tree: Tree,
  c: {
    readonly serverId: string;
    readonly addr: string;
    readonly type: AAuthType;
    readonly name: string;
    readonly secret: string;
    readonly serverSecret?: string;
    readonly defaultId: string;
    /** false for a second account: the tree's ACL stays with the first server */
    readonly owner?: boolean;
  },
): void {
  const existing = readAccounts(tree).find((a) => a.serverId === c.serverId);
  addAccount(tree, {
    id: existing?.id ?? c.defaultId,
    serverId: c.serverId,
    addr: c.addr,
    client: { type: c.type, name: c.name, secret: c.secret, ...(existing?.client.data ? { data: existing.client.data } : {}) },
    ...(c.serverSecret !== undefined
      ? {
          server: {
            type: c.type,
            name: c.serverId,
            secret: c.serverSecret,
            ...(existing?.server?.data ? { data: existing.server.data } : {}),
          },
        }
      : {}),
  });
  if (c.owner !== false)
    tree.define('.', { format: 'node', acl: `Add=*&Get=*&Replace=${c.serverId}&Delete=${c.serverId}&Exec=${c.serverId}` });
}
