// What deployed DM clients send that the DTD does not allow, read the same in XML and WBXML and said
// so through onWarning (docs/interop.md, "Lenient reading"). What is really broken stays refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { DecodeWarning } from '../../../src/protocol/codec/options.ts';
import { Tok } from '../../../src/protocol/codec/tokens.ts';
import type { Command, Message, Results, Status } from '../../../src/protocol/model.ts';
import { publicIdFor } from '../../../src/protocol/wbxml/header.ts';
import { decodeWbxml, encodeWbxml } from '../../../src/protocol/wbxml/index.ts';
import { WbxmlTokenWriter } from '../../../src/protocol/wbxml/writer.ts';
import { decodeXml, encodeXml } from '../../../src/protocol/xml/index.ts';
import { XmlTokenReader } from '../../../src/protocol/xml/reader.ts';

const HDR =
  '<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>2</MsgID>' +
  '<Target><LocURI>http://s/dm</LocURI></Target><Source><LocURI>IMEI:1</LocURI></Source></SyncHdr>';
const doc = (body: string): string => `<SyncML xmlns="SYNCML:SYNCML1.2">${HDR}<SyncBody>${body}<Final/></SyncBody></SyncML>`;
const M = (inner: string): string => `<Meta>${inner}</Meta>`;
const F = (v: string): string => `<Format xmlns="syncml:metinf">${v}</Format>`;
const T = (v: string): string => `<Type xmlns="syncml:metinf">${v}</Type>`;

/** The same document as WBXML, element for element in the order written (our encoder would reorder). */
function toWbxml(xml: string): Uint8Array {
  const r = new XmlTokenReader(xml, 32);
  const w = new WbxmlTokenWriter(2, publicIdFor('1.2'));
  for (let t = r.next(); t !== Tok.Eof; t = r.next()) {
    if (t >= 0) w.start(t);
    else if (t === Tok.End) w.end();
    else if (t === Tok.Text) w.text(r.text);
  }
  return w.result();
}

/** Decodes in both encodings, checks they agree, and gives the message and the warning codes. */
function read(xml: string): { msg: Message; warnings: string[] } {
  const warnings: DecodeWarning[] = [];
  const msg = decodeXml(xml, { onWarning: (w) => warnings.push(w) });
  const fromWbxml: DecodeWarning[] = [];
  assert.deepStrictEqual(decodeWbxml(toWbxml(xml), { onWarning: (w) => fromWbxml.push(w) }), msg, 'WBXML reads the same');
  assert.deepStrictEqual(
    fromWbxml.map((w) => w.code),
    warnings.map((w) => w.code),
  );
  return { msg, warnings: warnings.map((w) => w.code) };
}

const first = (m: Message): Command => m.body.commands[0]!;

test('Meta with Type before Format is read as Format and Type', () => {
  const { msg, warnings } = read(
    doc(
      `<Results><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>3</CmdRef><Item><Source><LocURI>./A</LocURI></Source>${M(T('text/plain') + F('chr'))}<Data>x</Data></Item></Results>`,
    ),
  );
  assert.deepStrictEqual((first(msg) as Results).items[0]!.meta, { type: 'text/plain', format: 'chr' });
  assert.deepStrictEqual(warnings, []);
});

test('TargetRef after the Item, and Source after Data, are read into the same fields', () => {
  const { msg } = read(
    doc(
      `<Results><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>3</CmdRef><Item><Data>x</Data><Source><LocURI>./A</LocURI></Source></Item><TargetRef>./A</TargetRef></Results>`,
    ),
  );
  const r = first(msg) as Results;
  assert.equal(r.targetRef, './A');
  assert.deepStrictEqual(r.items[0], { data: 'x', source: { locUri: './A' } });
});

test('Format in another case (Chr, B64) is read in lower case, with a warning, and b64 Data is decoded', () => {
  const { msg, warnings } = read(
    doc(
      `<Results><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>3</CmdRef>` +
        `<Item><Source><LocURI>./A</LocURI></Source>${M(F('Chr'))}<Data>x</Data></Item>` +
        `<Item><Source><LocURI>./B</LocURI></Source>${M(F('B64'))}<Data>aGk=</Data></Item></Results>`,
    ),
  );
  const items = (first(msg) as Results).items;
  assert.equal(items[0]!.meta?.format, 'chr');
  assert.equal(items[1]!.meta?.format, 'b64');
  assert.deepStrictEqual(items[1]!.data, new Uint8Array(Buffer.from('hi')));
  assert.deepStrictEqual(warnings, ['DM_FORMAT_CASE', 'DM_FORMAT_CASE']);
});

test('a MIME type in Format is read as chr data with that Type; a Type given beside it wins', () => {
  const { msg, warnings } = read(
    doc(
      `<Results><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>3</CmdRef>` +
        `<Item><Source><LocURI>./A</LocURI></Source>${M(F('text/plain'))}<Data>x</Data></Item>` +
        `<Item><Source><LocURI>./B</LocURI></Source>${M(T('org.x') + F('application/json'))}<Data>{}</Data></Item></Results>`,
    ),
  );
  const items = (first(msg) as Results).items;
  assert.deepStrictEqual(items[0]!.meta, { format: 'chr', type: 'text/plain' });
  assert.deepStrictEqual(items[1]!.meta, { type: 'org.x', format: 'chr' });
  assert.equal(items[0]!.data, 'x');
  assert.deepStrictEqual(warnings, ['DM_FORMAT_MIME', 'DM_FORMAT_MIME']);
});

test('an unknown Format that is no MIME type is kept as sent (the session decides)', () => {
  const { msg, warnings } = read(
    doc(`<Results><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>3</CmdRef><Item>${M(F('weird'))}<Data>x</Data></Item></Results>`),
  );
  assert.equal((first(msg) as Results).items[0]!.meta?.format, 'weird');
  assert.deepStrictEqual(warnings, []);
});

test('a first Status without CmdRef answers the SyncHdr (by Cmd, or by position when Cmd is missing too)', () => {
  const byCmd = read(doc('<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><Cmd>SyncHdr</Cmd><Data>212</Data></Status>'));
  assert.deepStrictEqual([(first(byCmd.msg) as Status).cmdRef, (first(byCmd.msg) as Status).cmd], [0, 'SyncHdr']);
  assert.deepStrictEqual(byCmd.warnings, ['DM_STATUS_NO_CMDREF']);
  const byPlace = read(doc('<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><Data>200</Data></Status>'));
  assert.deepStrictEqual([(first(byPlace.msg) as Status).cmdRef, (first(byPlace.msg) as Status).cmd], [0, 'SyncHdr']);
});

test('a command Status without CmdRef is kept without one, for the session to match by Cmd and TargetRef', () => {
  const { msg, warnings } = read(
    doc(
      '<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>' +
        '<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><Cmd>Replace</Cmd><TargetRef>./A</TargetRef><Data>200</Data></Status>',
    ),
  );
  const s = msg.body.commands[1] as Status;
  assert.equal('cmdRef' in s, false);
  assert.deepStrictEqual([s.cmd, s.targetRefs, s.code], ['Replace', ['./A'], 200]);
  assert.deepStrictEqual(warnings, ['DM_STATUS_NO_CMDREF']);
  // and written back as it is: no CmdRef invented
  assert.doesNotMatch(encodeXmlString(msg).split('<CmdID>2</CmdID>')[1]!, /<CmdRef>/);
  assert.deepStrictEqual(decodeWbxml(encodeWbxml(msg)), msg);
});

test('still refused: a command Status with neither CmdRef nor Cmd, and a Status without Data', () => {
  const hdr = '<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>';
  assert.throws(() => decodeXml(doc(`${hdr}<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><Data>200</Data></Status>`)), {
    code: 'DM_MISSING_ELEMENT',
  });
  assert.throws(() => decodeXml(doc('<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd></Status>')), {
    code: 'DM_MISSING_ELEMENT',
  });
});

test('duplicate CmdIDs in one message are read as sent', () => {
  const { msg } = read(
    doc(
      '<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>' +
        '<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>3</CmdRef><Cmd>Get</Cmd><Data>200</Data></Status>' +
        '<Results><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>3</CmdRef><Item><Data>x</Data></Item></Results>',
    ),
  );
  assert.deepStrictEqual(
    msg.body.commands.map((c) => c.cmdId),
    [1, 1, 1],
  );
});

function encodeXmlString(msg: Message): string {
  return Buffer.from(encodeXml(msg)).toString('utf8');
}
