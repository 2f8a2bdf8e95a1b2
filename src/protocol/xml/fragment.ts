// A SyncBody fragment as text: the commands of a GwMO Fanout job travel as XML in a leaf's Data
// ("<Replace>…</Replace><Get>…</Get>"). Read and written through the message codec so they obey the
// same rules as whole messages.
import type { Command, Message } from '../model.ts';
import { MessageError, MessageErrorCode } from '../errors.ts';
import { decodeXml, encodeXmlString } from './index.ts';

const HDR =
  '<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>0</SessionID><MsgID>1</MsgID>' +
  '<Target><LocURI>.</LocURI></Target><Source><LocURI>.</LocURI></Source></SyncHdr>';

export function decodeFragment(text: string): Command[] {
  if (/<\/?(SyncML|SyncHdr|SyncBody)\b/.test(text)) {
    throw new MessageError(MessageErrorCode.UnexpectedElement, -1, 'a command fragment holds commands only, not SyncML/SyncHdr/SyncBody');
  }
  return [...decodeXml(`<SyncML xmlns="SYNCML:SYNCML1.2">${HDR}<SyncBody>${text}</SyncBody></SyncML>`).body.commands];
}

export function encodeFragment(commands: readonly Command[]): string {
  const msg: Message = {
    hdr: { verDtd: '1.2', verProto: 'DM/1.2', sessionId: '0', msgId: 1, target: { locUri: '.' }, source: { locUri: '.' } },
    body: { commands, final: false },
  };
  const xml = encodeXmlString(msg);
  const start = xml.indexOf('<SyncBody>') + '<SyncBody>'.length;
  return xml.slice(start, xml.lastIndexOf('</SyncBody>'));
}
