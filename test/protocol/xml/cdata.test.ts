// CDATA and line ends: what independent parsers (saxes, expat) read is what we read and write.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { decodeXml, encodeXml, type Message } from '../../../src/protocol/index.ts';

const msg = (data: Uint8Array): Message => ({
  hdr: { verDtd: '1.2', verProto: 'DM/1.2', sessionId: '1', msgId: 1, target: { locUri: 'a' }, source: { locUri: 'b' } },
  body: { commands: [{ kind: 'Replace', cmdId: 1, items: [{ target: { locUri: './X' }, meta: { format: 'bin' }, data }] }], final: true },
});

test('line ends inside CDATA are normalised like everywhere else', () => {
  const xml =
    '<SyncML><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>a</LocURI></Target><Source><LocURI>b</LocURI></Source></SyncHdr>' +
    '<SyncBody><Replace><CmdID>1</CmdID><Item><Target><LocURI>./X</LocURI></Target><Data><![CDATA[a\r\nb\rc]]></Data></Item></Replace><Final/></SyncBody></SyncML>';
  const cmd = decodeXml(xml).body.commands[0]!;
  assert.equal(cmd.kind === 'Replace' && cmd.items[0]!.data, 'a\nb\nc');
});

test('bin Data holding a CR cannot travel as CDATA: a clear error instead of changed bytes', () => {
  assert.throws(() => encodeXml(msg(Uint8Array.of(0x61, 0x0d, 0x62))), { code: 'DM_NOT_REPRESENTABLE' });
  const back = decodeXml(encodeXml(msg(Uint8Array.of(0x61, 0x0a, 0x62)))).body.commands[0]!;
  assert.deepEqual(back.kind === 'Replace' && [...(back.items[0]!.data as Uint8Array)], [0x61, 0x0a, 0x62]);
});
