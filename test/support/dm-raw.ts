// A scripted DM client for the security tests: Pkg1 messages built by hand and posted as exact bytes
// over real HTTP (optionally from another loopback address), replies decoded.
import { Agent, request } from 'node:http';

import {
  AuthScheme,
  type Cred,
  decodeXml,
  encodeXml,
  makeCred,
  type Message,
  nonceFromText,
  type Status,
} from '../../src/protocol/index.ts';

export interface RawReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  /** the decoded DM answer (HTTP 200) */
  readonly msg?: Message;
  readonly ms: number;
}

/** Pkg1 (Alert 1201 + DevInfo) from `deviceId`, with `cred` when given. */
export function pkg1(
  deviceId: string,
  serverUrl: string,
  options: { cred?: Cred; locName?: string; msgId?: number; sessionId?: string } = {},
): Message {
  return {
    hdr: {
      verDtd: '1.2',
      verProto: 'DM/1.2',
      sessionId: options.sessionId ?? '1',
      msgId: options.msgId ?? 1,
      target: { locUri: serverUrl },
      source: { locUri: deviceId, ...(options.locName ? { locName: options.locName } : {}) },
      ...(options.cred ? { cred: options.cred } : {}),
    },
    body: {
      commands: [
        { kind: 'Alert', cmdId: 1, data: 1201, items: [] },
        { kind: 'Replace', cmdId: 2, items: [{ source: { locUri: './DevInfo/Mod' }, data: 'Model-7' }] },
      ],
      final: true,
    },
  };
}

export const md5Cred = (name: string, password: string, nonce: Uint8Array = new Uint8Array(0)): Cred =>
  makeCred(AuthScheme.Md5, { name, password }, nonce);

export function postDm(url: string, msg: Message | Uint8Array, options: { localAddress?: string; agent?: Agent } = {}): Promise<RawReply> {
  const body = msg instanceof Uint8Array ? msg : encodeXml(msg);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.syncml.dm+xml', 'content-length': body.length },
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        ...(options.agent ? { agent: options.agent } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: bytes,
            ms: performance.now() - started,
            ...(res.statusCode === 200 ? { msg: decodeXml(new Uint8Array(bytes)) } : {}),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const hdrStatus = (m: Message): Status => m.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef === 0)!;
export const chalNonce = (m: Message): Uint8Array => nonceFromText(hdrStatus(m).chal!.meta.nextNonce!);
