// Mutation fuzzing of the DM endpoint over real HTTP: mutated session starts (good, bad and no
// credentials), mutated later messages posted into live sessions, and the HTTP envelope varied
// (content type, query, method). Every answer must be a DM message that decodes or a 4xx/503 with
// a message: never a 500, a reset or a hang.
import { request, Agent } from 'node:http';

import {
  AlertCode,
  AuthScheme,
  type Command,
  decodeWbxml,
  decodeXml,
  encodeWbxml,
  encodeXml,
  makeCred,
  type Message,
} from '../../src/protocol/index.ts';
import { mutate, Rng } from './fuzz.ts';

export interface DmTarget {
  readonly deviceId: string;
  readonly name: string;
  readonly password: string;
}

type Encoding = 'xml' | 'wbxml';

const encode = (m: Message, e: Encoding): Uint8Array => (e === 'xml' ? encodeXml(m) : encodeWbxml(m));
const decode = (b: Uint8Array, e: Encoding): Message => (e === 'xml' ? decodeXml(b) : decodeWbxml(b));

function pkg1(target: DmTarget, serverUrl: string, session: number, password: string | undefined): Message {
  const devInfo = ['DevId', 'Man', 'Mod', 'DmV', 'Lang'].map((leaf, i) => ({
    source: { locUri: `./DevInfo/${leaf}` },
    meta: { format: 'chr' },
    data: leaf === 'DevId' ? target.deviceId : `v${i}`,
  }));
  return {
    hdr: {
      verDtd: '1.2',
      verProto: 'DM/1.2',
      sessionId: String(session),
      msgId: 1,
      target: { locUri: serverUrl },
      source: { locUri: target.deviceId, locName: target.name },
      ...(password === undefined ? {} : { cred: makeCred(AuthScheme.Basic, { name: target.name, password }, new Uint8Array(0)) }),
      meta: { maxMsgSize: 16_384 },
    },
    body: {
      final: true,
      commands: [
        { kind: 'Alert', cmdId: 1, data: AlertCode.ClientInitiatedMgmt, items: [] },
        { kind: 'Replace', cmdId: 2, items: devInfo },
        {
          kind: 'Alert',
          cmdId: 3,
          data: 1226,
          items: [{ source: { locUri: './Vendor' }, meta: { type: 'org.example.fuzz', format: 'chr' }, data: 'x'.repeat(40) }],
        },
      ],
    },
  };
}

/** A later message of a session: Status for the server's commands and Results for a Get. */
function pkg3(target: DmTarget, serverUrl: string, session: number, msgId: number): Message {
  const commands: Command[] = [
    {
      kind: 'Status',
      cmdId: 1,
      msgRef: msgId - 1,
      cmdRef: 0,
      cmd: 'SyncHdr',
      targetRefs: [target.deviceId],
      sourceRefs: [serverUrl],
      code: 200,
      items: [],
    },
    {
      kind: 'Status',
      cmdId: 2,
      msgRef: msgId - 1,
      cmdRef: 3,
      cmd: 'Get',
      targetRefs: ['./DevInfo/Mod'],
      sourceRefs: [],
      code: 200,
      items: [],
    },
    {
      kind: 'Results',
      cmdId: 3,
      msgRef: msgId - 1,
      cmdRef: 3,
      items: [{ source: { locUri: './DevInfo/Mod' }, meta: { format: 'chr' }, data: 'fuzz' }],
    },
    { kind: 'Alert', cmdId: 4, data: AlertCode.NextMessage, items: [] },
  ];
  return {
    hdr: {
      verDtd: '1.2',
      verProto: 'DM/1.2',
      sessionId: String(session),
      msgId,
      target: { locUri: serverUrl },
      source: { locUri: target.deviceId },
    },
    body: { final: true, commands },
  };
}

export interface DmFuzzOptions {
  readonly url: string; // the DM endpoint, e.g. http://127.0.0.1:1234/dm
  /** a device whose credentials are only ever sent right: its sessions carry the later messages */
  readonly good: DmTarget;
  /** a device that gets mutated session starts (it may end up locked out) */
  readonly victim: DmTarget;
  readonly runs: number;
  readonly seed: number;
  readonly concurrency?: number;
  /** called every `every` runs with the count so far */
  readonly progress?: (done: number) => void;
}

export interface DmFuzzReport {
  readonly runs: number;
  /** answers by HTTP status */
  readonly statuses: Record<number, number>;
  /** session starts that opened a session, for the later messages */
  readonly sessions: number;
}

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: Buffer;
}

const KEY_CHARS = 'ABCDEFabcdef0189-_%&=.';
const ALLOWED = new Set([200, 400, 401, 403, 404, 405, 409, 413, 415, 429, 503]);
const TYPES = [
  'application/vnd.syncml.dm+xml',
  'application/vnd.syncml.dm+wbxml',
  'application/vnd.syncml+xml',
  'application/vnd.syncml+wbxml',
  'APPLICATION/VND.SYNCML.DM+XML; charset=utf-8',
  'text/html',
  '',
  'application/vnd.syncml.dm+wbxml;;;=',
];

export async function fuzzDmEndpoint(o: DmFuzzOptions): Promise<DmFuzzReport> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency ?? 8 });
  const base = new URL(o.url);
  const rng = new Rng(o.seed);
  const statuses: Record<number, number> = {};
  let sessions = 0;
  let session = 1;
  let next = 0;
  const serverUrl = o.url;
  // seeds in both encodings; a few hundred bytes each, like real first messages
  const seeds: Record<Encoding, Uint8Array[]> = { xml: [], wbxml: [] };
  for (const e of ['xml', 'wbxml'] as const) {
    seeds[e].push(
      encode(pkg1(o.victim, serverUrl, 1, o.victim.password), e),
      encode(pkg1(o.victim, serverUrl, 2, 'wrong'), e),
      encode(pkg1(o.victim, serverUrl, 3, undefined), e),
      encode(pkg3(o.victim, serverUrl, 4, 2), e),
    );
  }

  const post = (path: string, body: Uint8Array, type: string, method = 'POST'): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: base.hostname,
          port: base.port,
          path,
          method,
          agent,
          headers: { ...(type ? { 'content-type': type } : {}), 'content-length': body.length },
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer in 10 s to ${method} ${path}`)));
      req.on('error', reject);
      req.end(body);
    });

  const check = (a: Answer, what: string, input: Uint8Array): void => {
    statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    const fail = (why: string): never => {
      throw new Error(`${what}: ${why}; input ${Buffer.from(input).toString('hex').slice(0, 4000)}`);
    };
    if (!ALLOWED.has(a.status)) fail(`HTTP ${a.status} ${a.body.toString().slice(0, 200)}`);
    if (a.status !== 200) {
      if (a.body.length === 0) fail(`HTTP ${a.status} without a message`);
      return;
    }
    const e: Encoding | undefined = a.type.includes('wbxml') ? 'wbxml' : a.type.includes('xml') ? 'xml' : undefined;
    if (!e) fail(`200 with content type ${a.type}`);
    try {
      decode(a.body, e!);
    } catch (err) {
      fail(`the server's own answer does not decode: ${String(err)}`);
    }
  };

  /** A good session start; the key of the session it opened, or undefined (locked out, refused). */
  const open = async (e: Encoding): Promise<{ path: string; id: number } | undefined> => {
    const id = ++session;
    const body = encode(pkg1(o.good, serverUrl, id, o.good.password), e);
    const a = await post(base.pathname, body, TYPES[e === 'xml' ? 0 : 1]!);
    check(a, 'good session start', body);
    if (a.status !== 200) return undefined;
    const resp = decode(a.body, e).hdr.respUri;
    if (!resp) return undefined;
    sessions++;
    const u = new URL(resp);
    return { path: `${u.pathname}${u.search}`, id };
  };

  const one = async (i: number, live: Map<Encoding, { path: string; id: number; msg: number }>): Promise<void> => {
    const e: Encoding = rng.below(2) === 0 ? 'xml' : 'wbxml';
    const kind = rng.below(10);
    const type = rng.below(20) === 0 ? TYPES[rng.below(TYPES.length)]! : TYPES[e === 'xml' ? 0 : 1]!;
    if (kind < 5) {
      // a mutated session start
      const list = seeds[e];
      const input = mutate(rng, list[rng.below(3)]!, list[rng.below(list.length)]!);
      // now and then a made-up session key, with stray percent signs
      const key = Array.from({ length: 1 + rng.below(20) }, () => KEY_CHARS[rng.below(KEY_CHARS.length)]).join('');
      const path = rng.below(10) === 0 ? `${base.pathname}?s=${key}` : base.pathname;
      check(await post(path, input, type, rng.below(50) === 0 ? 'PUT' : 'POST'), `run ${i} (seed ${o.seed}) start`, input);
      return;
    }
    // a mutated later message into a live session of the good device
    let s = live.get(e);
    if (!s || s.msg > 6) {
      const opened = await open(e);
      if (!opened) return;
      s = { ...opened, msg: 2 };
      live.set(e, s);
    }
    const clean = encode(pkg3(o.good, serverUrl, s.id, s.msg++), e);
    const input = kind < 8 ? mutate(rng, clean, seeds[e][3]!) : clean;
    check(await post(s.path, input, type), `run ${i} (seed ${o.seed}) in session`, input);
  };

  const worker = async (): Promise<void> => {
    const live = new Map<Encoding, { path: string; id: number; msg: number }>();
    while (next < o.runs) {
      const i = next++;
      await one(i, live);
      if (o.progress && (i + 1) % 10_000 === 0) o.progress(i + 1);
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency ?? 8 }, worker));
  } finally {
    agent.destroy();
  }
  return { runs: o.runs, statuses, sessions };
}
