import { MessageError, MessageErrorCode } from '../errors.ts';
import type { Message } from '../model.ts';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, type DecodeOptions, type WbxmlEncodeOptions } from '../codec/options.ts';
import { readMessage } from '../codec/read-message.ts';
import { writeMessage } from '../codec/write-message.ts';
import { publicIdFor } from './header.ts';
import { WbxmlTokenReader } from './reader.ts';
import { WbxmlTokenWriter } from './writer.ts';

/** Decodes a SyncML DM message in WBXML 1.1–1.3 straight to the model. */
export function decodeWbxml(input: Uint8Array, options: DecodeOptions = {}): Message {
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (input.length > max) {
    throw new MessageError(MessageErrorCode.TooLarge, max, `message of ${input.length} bytes is over the limit of ${max}`);
  }
  return readMessage(new WbxmlTokenReader(input, options.maxDepth ?? DEFAULT_MAX_DEPTH), options.onWarning);
}

/** Encodes a message as WBXML (1.2 by default) with no string table. */
export function encodeWbxml(msg: Message, options: WbxmlEncodeOptions = {}): Uint8Array {
  const writer = new WbxmlTokenWriter(options.version ?? 2, publicIdFor(msg.hdr.verDtd));
  writeMessage(writer, msg);
  return writer.result();
}
