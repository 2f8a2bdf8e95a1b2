// Bytes ↔ model for one session, in the encoding the peer chose. Sizes are counted on the encoded
// bytes (spec digest §3.5), so the engines encode to measure.
import { decodeWbxml, decodeXml, encodeWbxml, encodeXml } from '../protocol/index.ts';
import type { DecodeOptions, Message } from '../protocol/index.ts';

export type Encoding = 'xml' | 'wbxml';

export interface WireMessage {
  readonly body: Uint8Array;
  readonly encoding: Encoding;
  /** value of the x-syncml-hmac header, when present */
  readonly hmac?: string;
}

export function decodeMessage(body: Uint8Array, encoding: Encoding, options?: DecodeOptions): Message {
  return encoding === 'wbxml' ? decodeWbxml(body, options) : decodeXml(body, options);
}

export function encodeMessage(msg: Message, encoding: Encoding): Uint8Array {
  return encoding === 'wbxml' ? encodeWbxml(msg) : encodeXml(msg);
}
