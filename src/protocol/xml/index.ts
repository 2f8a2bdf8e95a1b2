import type { Message } from '../model.ts';
import type { DecodeOptions, XmlEncodeOptions } from '../codec/options.ts';

export function decodeXml(input: Uint8Array | string, options?: DecodeOptions): Message {
  throw new Error('not implemented yet');
}
export function encodeXml(msg: Message, options?: XmlEncodeOptions): Uint8Array {
  throw new Error('not implemented yet');
}
export function encodeXmlString(msg: Message, options?: XmlEncodeOptions): string {
  throw new Error('not implemented yet');
}
