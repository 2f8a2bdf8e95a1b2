// A gateway without an account at the server obtains one with the server's enrolment credential
// (POST <server>/enrol); the credentials are kept in its own DMAcc, so this happens once.
import type { Tree } from '../tree/index.ts';
import { readAccounts } from '../tree/index.ts';

export interface EnrolledAccount {
  readonly name: string;
  readonly password: string;
  readonly serverPassword: string;
}

/** The account this gateway's tree already holds for `serverId`, if any. */
export function storedAccount(tree: Tree, serverId: string): EnrolledAccount | undefined {
  const acc = readAccounts(tree)
    .filter((a) => a.serverId === serverId)
    .pop();
  return acc && acc.client.secret
    ? { name: acc.client.name, password: acc.client.secret, serverPassword: acc.server?.secret ?? '' }
    : undefined;
}

export async function enrol(serverUrl: string, deviceId: string, enrolmentSecret: string): Promise<EnrolledAccount> {
  const url = `${serverUrl.replace(/\/dm(\?.*)?$/, '')}/enrol`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body: JSON.stringify({ deviceId, enrolmentSecret }),
      headers: { 'content-type': 'application/json' },
    });
  } catch (err) {
    throw new Error(`cannot reach ${url} to enrol: ${(err as { cause?: { code?: string } }).cause?.code ?? String(err)}`);
  }
  const body = (await res.json().catch(() => ({}))) as { name?: string; password?: string; serverPassword?: string; error?: string };
  if (res.status !== 201 || !body.name || !body.password)
    throw new Error(`enrolment at ${url} refused: HTTP ${res.status} ${body.error ?? ''}`.trim());
  return { name: body.name, password: body.password, serverPassword: body.serverPassword ?? '' };
}
