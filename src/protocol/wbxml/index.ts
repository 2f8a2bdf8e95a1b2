import type { Message } from '../model.ts';
import type { DecodeOptions, WbxmlEncodeOptions } from '../codec/options.ts';

export function decodeWbxml(input: Uint8Array, options?: DecodeOptions): Message {
  throw new Error('not implemented yet');
}
export function encodeWbxml(msg: Message, options?: WbxmlEncodeOptions): Uint8Array {
  throw new Error('not implemented yet');
}
