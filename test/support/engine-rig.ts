// The server session engine on a real SQLite store, driven by hand-built device messages: for the
// tests of what deployed devices do (refuse our credentials, answer chunks wrongly, drop sessions).
import { AuthScheme, type Command, decodeXml, encodeXml, makeCred, type Message, type Status } from '../../src/protocol/index.ts';
import { engineDeps, type ServerEvents } from '../../src/server/engine-deps.ts';
import { ServerService } from '../../src/server/service.ts';
import { isRefusal, ServerEngine } from '../../src/session/server/index.ts';
import type { SessionProfileRow } from '../../src/store/server.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';

export const URL_ = 'http://127.0.0.1:1/dm';
export const DEV = 'IMEI:001';
export const SERVER = { name: 'gwmo-test', password: 'srv-secret' };
const CLIENT_NONCE = Uint8Array.of(7, 7, 7, 7);

export async function engineRig(
  options: { profile?: SessionProfileRow; serverNonce?: string; events?: ServerEvents; maxMsgSize?: number } = {},
) {
  const clock = { now: () => 1_000_000 };
  const store = new SqliteServerStore(':memory:');
  const service = new ServerService(store, clock, 'gwmo-test');
  await service.addDevice({
    deviceId: DEV,
    name: 'dev1',
    password: 'secret',
    serverName: SERVER.name,
    serverPassword: SERVER.password,
    ...(options.profile ? { sessionProfile: options.profile } : {}),
    ...(options.serverNonce !== undefined ? { serverNonce: options.serverNonce } : {}),
  });
  // the device already holds a nonce from us: its first message authenticates
  await store.updateDevice(DEV, { clientNonce: CLIENT_NONCE });
  let n = 0;
  const engine = new ServerEngine(engineDeps(store, clock, options.events), {
    serverId: 'gwmo-test',
    url: URL_,
    sessionTimeoutMs: 60_000,
    newNonce: () => Uint8Array.of(1, 2, 3, ++n),
    ...(options.maxMsgSize ? { maxMsgSize: options.maxMsgSize } : {}),
  });
  let sessionId = 0;
  /** a device session: Pkg1, then each answer posted to the last RespURI */
  const session = () => {
    sessionId++;
    let path = '/dm';
    let msgId = 0;
    const send = async (commands: Command[], hdr: Partial<Message['hdr']> = {}): Promise<Message> => {
      let id = 1;
      const msg: Message = {
        hdr: {
          verDtd: '1.2',
          verProto: 'DM/1.2',
          sessionId: String(sessionId),
          msgId: ++msgId,
          target: { locUri: URL_ },
          source: { locUri: DEV, locName: 'dev1' },
          ...hdr,
        },
        body: { commands: commands.map((c) => ({ ...c, cmdId: id++ })), final: true },
      };
      const reply = await engine.handle({ body: encodeXml(msg), encoding: 'xml', url: path });
      if (isRefusal(reply)) throw new Error(`refused: HTTP ${reply.httpStatus} ${reply.message}`);
      const out = decodeXml(reply.body);
      const resp = new URL(out.hdr.respUri!);
      path = resp.pathname + resp.search;
      return out;
    };
    return {
      /** Pkg1 with the device's Cred; `hdr` e.g. `{ meta: { maxMsgSize } }` */
      start: async (extra: Command[] = [], hdr: Partial<Message['hdr']> = {}) => {
        // the nonce the server gave in its last Chal (a device keeps it for its next session)
        const nonce = (await store.getDevice(DEV))!.clientNonce ?? CLIENT_NONCE;
        return send([{ kind: 'Alert', cmdId: 0, data: 1201, items: [] }, ...extra], {
          cred: makeCred(AuthScheme.Md5, { name: 'dev1', password: 'secret' }, nonce),
          ...hdr,
        });
      },
      send,
    };
  };
  return { store, service, engine, session };
}

/** the commands of a server message that the device must answer */
export const sent = (m: Message): Command[] => m.body.commands.filter((c) => c.kind !== 'Status');

/** the device's Status for each of `m`'s commands (and its SyncHdr), all with `code` unless `codes` says otherwise */
export function statusesFor(m: Message, hdrCode: number, code: number, extra: Partial<Status> = {}): Status[] {
  return [
    {
      kind: 'Status',
      cmdId: 0,
      msgRef: m.hdr.msgId,
      cmdRef: 0,
      cmd: 'SyncHdr',
      targetRefs: [],
      sourceRefs: [],
      code: hdrCode,
      items: [],
      ...extra,
    },
    ...sent(m).map(
      (c): Status => ({
        kind: 'Status',
        cmdId: 0,
        msgRef: m.hdr.msgId,
        cmdRef: c.cmdId,
        cmd: c.kind,
        targetRefs: [],
        sourceRefs: [],
        code,
        items: [],
      }),
    ),
  ];
}
