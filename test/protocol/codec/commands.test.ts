// Table-driven vectors: one per DM command, Meta field and status/alert code. Each vector gives the
// model and the exact XML body our encoder writes (DTD order); both codecs must decode it back.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AlertCode, StatusCode } from '../../../src/protocol/codes.ts';
import type { Command, Message, Meta } from '../../../src/protocol/model.ts';
import { decodeWbxml, encodeWbxml } from '../../../src/protocol/wbxml/index.ts';
import { decodeXml, encodeXmlString } from '../../../src/protocol/xml/index.ts';

const HDR =
  '<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>2A</SessionID><MsgID>3</MsgID>' +
  '<Target><LocURI>IMEI:1</LocURI></Target><Source><LocURI>http://dm.example/</LocURI></Source></SyncHdr>';

function wrap(commands: Command[], final = true): Message {
  return {
    hdr: {
      verDtd: '1.2',
      verProto: 'DM/1.2',
      sessionId: '2A',
      msgId: 3,
      target: { locUri: 'IMEI:1' },
      source: { locUri: 'http://dm.example/' },
    },
    body: { commands, final },
  };
}

function xmlOf(body: string, final = true): string {
  return `<?xml version="1.0" encoding="UTF-8"?><SyncML xmlns="SYNCML:SYNCML1.2">${HDR}<SyncBody>${body}${final ? '<Final/>' : ''}</SyncBody></SyncML>`;
}

const mi = (name: string, value: string): string => `<${name} xmlns="syncml:metinf">${value}</${name}>`;
const target = (uri: string): string => `<Target><LocURI>${uri}</LocURI></Target>`;

const commandVectors: { name: string; cmd: Command; xml: string }[] = [
  {
    name: 'Add of an interior node (Format node)',
    cmd: { kind: 'Add', cmdId: 1, items: [{ target: { locUri: './Vendor/App' }, meta: { format: 'node' } }] },
    xml: `<Add><CmdID>1</CmdID><Item>${target('./Vendor/App')}<Meta>${mi('Format', 'node')}</Meta></Item></Add>`,
  },
  {
    name: 'Replace with command-level Meta and text Data',
    cmd: {
      kind: 'Replace',
      cmdId: 2,
      meta: { format: 'chr', type: 'text/plain' },
      items: [{ target: { locUri: './DevInfo/Lang' }, data: 'fr & en' }],
    },
    xml: `<Replace><CmdID>2</CmdID><Meta>${mi('Format', 'chr')}${mi('Type', 'text/plain')}</Meta><Item>${target('./DevInfo/Lang')}<Data>fr &amp; en</Data></Item></Replace>`,
  },
  {
    name: 'Delete with NoResp',
    cmd: { kind: 'Delete', cmdId: 3, noResp: true, items: [{ target: { locUri: './Vendor/App' } }] },
    xml: `<Delete><CmdID>3</CmdID><NoResp/><Item>${target('./Vendor/App')}</Item></Delete>`,
  },
  {
    name: 'Copy with Target and Source',
    cmd: { kind: 'Copy', cmdId: 4, items: [{ target: { locUri: './B' }, source: { locUri: './A' } }] },
    xml: `<Copy><CmdID>4</CmdID><Item>${target('./B')}<Source><LocURI>./A</LocURI></Source></Item></Copy>`,
  },
  {
    name: 'Get with a property query',
    cmd: { kind: 'Get', cmdId: 5, items: [{ target: { locUri: './DevInfo?prop=ACL' } }] },
    xml: `<Get><CmdID>5</CmdID><Item>${target('./DevInfo?prop=ACL')}</Item></Get>`,
  },
  {
    name: 'Exec with Correlator and argument',
    cmd: { kind: 'Exec', cmdId: 6, correlator: 'job-7', item: { target: { locUri: './FUMO/pkg1/Update' }, data: 'now' } },
    xml: `<Exec><CmdID>6</CmdID><Correlator>job-7</Correlator><Item>${target('./FUMO/pkg1/Update')}<Data>now</Data></Item></Exec>`,
  },
  {
    name: 'Alert 1226 with Meta Type/Format/Mark and Source',
    cmd: {
      kind: 'Alert',
      cmdId: 7,
      data: 1226,
      correlator: 'c-77',
      items: [
        {
          source: { locUri: './FUMO/pkg1' },
          meta: { format: 'int', type: 'org.openmobilealliance.dm.firmwareupdate.download', mark: 'critical' },
          data: '200',
        },
      ],
    },
    xml: `<Alert><CmdID>7</CmdID><Data>1226</Data><Correlator>c-77</Correlator><Item><Source><LocURI>./FUMO/pkg1</LocURI></Source><Meta>${mi('Format', 'int')}${mi('Type', 'org.openmobilealliance.dm.firmwareupdate.download')}${mi('Mark', 'critical')}</Meta><Data>200</Data></Item></Alert>`,
  },
  {
    name: 'Atomic holding a Sequence',
    cmd: {
      kind: 'Atomic',
      cmdId: 8,
      commands: [{ kind: 'Sequence', cmdId: 9, commands: [{ kind: 'Delete', cmdId: 10, items: [{ target: { locUri: './X' } }] }] }],
    },
    xml: `<Atomic><CmdID>8</CmdID><Sequence><CmdID>9</CmdID><Delete><CmdID>10</CmdID><Item>${target('./X')}</Item></Delete></Sequence></Atomic>`,
  },
  {
    name: 'Results for an interior node with an empty child list',
    cmd: {
      kind: 'Results',
      cmdId: 2,
      msgRef: 2,
      cmdRef: 4,
      items: [{ source: { locUri: './Vendor/empty' }, meta: { format: 'node' }, data: '' }],
    },
    xml: `<Results><CmdID>2</CmdID><MsgRef>2</MsgRef><CmdRef>4</CmdRef><Item><Source><LocURI>./Vendor/empty</LocURI></Source><Meta>${mi('Format', 'node')}</Meta><Data/></Item></Results>`,
  },
  {
    name: 'Status for the header with Chal and refs',
    cmd: {
      kind: 'Status',
      cmdId: 1,
      msgRef: 1,
      cmdRef: 0,
      cmd: 'SyncHdr',
      targetRefs: ['http://dm.example/'],
      sourceRefs: ['IMEI:1'],
      chal: { meta: { format: 'b64', type: 'syncml:auth-md5', nextNonce: 'LG3iZQhhdmKNHg==' } },
      code: 401,
      items: [],
    },
    xml: `<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><TargetRef>http://dm.example/</TargetRef><SourceRef>IMEI:1</SourceRef><Chal><Meta>${mi('Format', 'b64')}${mi('Type', 'syncml:auth-md5')}${mi('NextNonce', 'LG3iZQhhdmKNHg==')}</Meta></Chal><Data>401</Data></Status>`,
  },
  {
    name: 'Add of binary data in Format b64 (bytes in the model)',
    cmd: {
      kind: 'Add',
      cmdId: 11,
      items: [
        {
          target: { locUri: './Vendor/blob' },
          meta: { format: 'b64', type: 'application/octet-stream' },
          data: Uint8Array.of(0, 1, 2, 0xfe, 0xff),
        },
      ],
    },
    xml: `<Add><CmdID>11</CmdID><Item>${target('./Vendor/blob')}<Meta>${mi('Format', 'b64')}${mi('Type', 'application/octet-stream')}</Meta><Data>AAEC/v8=</Data></Item></Add>`,
  },
  {
    name: 'large-object chunk with Size and MoreData',
    cmd: {
      kind: 'Replace',
      cmdId: 12,
      items: [{ target: { locUri: './Vendor/big' }, meta: { format: 'chr', size: 9000 }, data: 'first chunk', moreData: true }],
    },
    xml: `<Replace><CmdID>12</CmdID><Item>${target('./Vendor/big')}<Meta>${mi('Format', 'chr')}${mi('Size', '9000')}</Meta><Data>first chunk</Data><MoreData/></Item></Replace>`,
  },
];

for (const v of commandVectors) {
  test(`${v.name}: encodes to the expected XML`, () => {
    assert.equal(encodeXmlString(wrap([v.cmd])), xmlOf(v.xml));
  });
  test(`${v.name}: decodes from XML and from WBXML to the same model`, () => {
    assert.deepStrictEqual(decodeXml(xmlOf(v.xml)), wrap([v.cmd]));
    assert.deepStrictEqual(decodeWbxml(encodeWbxml(wrap([v.cmd]))), wrap([v.cmd]));
  });
}

const metaVectors: { field: keyof Meta; meta: Meta; xml: string }[] = [
  { field: 'format', meta: { format: 'int' }, xml: mi('Format', 'int') },
  { field: 'type', meta: { type: 'text/plain' }, xml: mi('Type', 'text/plain') },
  { field: 'mark', meta: { mark: 'warning' }, xml: mi('Mark', 'warning') },
  { field: 'size', meta: { size: 524288 }, xml: mi('Size', '524288') },
  { field: 'version', meta: { version: '1.0' }, xml: mi('Version', '1.0') },
  { field: 'nextNonce', meta: { nextNonce: 'AAAAAA==' }, xml: mi('NextNonce', 'AAAAAA==') },
  { field: 'maxMsgSize', meta: { maxMsgSize: 16384 }, xml: mi('MaxMsgSize', '16384') },
  { field: 'maxObjSize', meta: { maxObjSize: 4294967295 }, xml: mi('MaxObjSize', '4294967295') },
  { field: 'emi', meta: { emi: ['vendor-a', 'vendor-b'] }, xml: mi('EMI', 'vendor-a') + mi('EMI', 'vendor-b') },
];

for (const v of metaVectors) {
  test(`Meta ${v.field} round-trips through XML and WBXML`, () => {
    const cmd: Command = { kind: 'Get', cmdId: 1, meta: v.meta, items: [{ target: { locUri: './A' } }] };
    const xml = xmlOf(`<Get><CmdID>1</CmdID><Meta>${v.xml}</Meta><Item>${target('./A')}</Item></Get>`);
    assert.equal(encodeXmlString(wrap([cmd])), xml);
    assert.deepStrictEqual(decodeXml(xml), wrap([cmd]));
    assert.deepStrictEqual(decodeWbxml(encodeWbxml(wrap([cmd]))), wrap([cmd]));
  });
}

test('every named status code round-trips as Status Data', () => {
  for (const code of Object.values(StatusCode)) {
    const cmd: Command = { kind: 'Status', cmdId: 1, msgRef: 1, cmdRef: 2, cmd: 'Get', targetRefs: [], sourceRefs: [], code, items: [] };
    assert.match(encodeXmlString(wrap([cmd])), new RegExp(`<Data>${code}</Data>`));
    assert.equal((decodeWbxml(encodeWbxml(wrap([cmd]))).body.commands[0] as { code: number }).code, code);
  }
});

test('every named alert code round-trips as Alert Data', () => {
  for (const code of Object.values(AlertCode)) {
    const cmd: Command = { kind: 'Alert', cmdId: 1, data: code, items: [] };
    assert.equal((decodeXml(encodeXmlString(wrap([cmd]))).body.commands[0] as { data: number }).data, code);
    assert.equal((decodeWbxml(encodeWbxml(wrap([cmd]))).body.commands[0] as { data: number }).data, code);
  }
});

test('a message without Final (non-last message of a package) keeps final false', () => {
  assert.equal(decodeXml(xmlOf('', false)).body.final, false);
  assert.equal(decodeWbxml(encodeWbxml(wrap([], false))).body.final, false);
});
