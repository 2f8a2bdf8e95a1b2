import { MessageError, MessageErrorCode, XmlError, XmlErrorCode } from '../errors.ts';
import type { Message } from '../model.ts';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, type DecodeOptions, type XmlEncodeOptions } from '../codec/options.ts';
import { readMessage } from '../codec/read-message.ts';
import { writeMessage } from '../codec/write-message.ts';
import { utf8DecodeStrict } from '../codec/data.ts';
import { XmlTokenReader } from './reader.ts';
import { XmlTokenWriter } from './writer.ts';

/** Decodes a SyncML DM message in XML (bytes are UTF-8). */
export function decodeXml(input: Uint8Array | string, options: DecodeOptions = {}): Message {
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (input.length > max) {
    throw new MessageError(MessageErrorCode.TooLarge, max, `message of ${input.length} bytes is over the limit of ${max}`);
  }
  let text: string | undefined;
  if (typeof input === 'string') text = input;
  else {
    text = utf8DecodeStrict(input);
    if (text === undefined) throw new XmlError(XmlErrorCode.Malformed, 0, 'message is not valid UTF-8');
  }
  const reader = new XmlTokenReader(text, options.maxDepth ?? DEFAULT_MAX_DEPTH);
  return readMessage(reader, options.onWarning);
}

export function encodeXmlString(msg: Message, options: XmlEncodeOptions = {}): string {
  const writer = new XmlTokenWriter(msg.hdr.verDtd, options.doctype ?? false);
  writeMessage(writer, msg);
  return writer.out;
}

export function encodeXml(msg: Message, options: XmlEncodeOptions = {}): Uint8Array {
  const buf = Buffer.from(encodeXmlString(msg, options), 'utf8');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
