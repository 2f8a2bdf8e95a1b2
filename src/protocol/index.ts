// The public face of the protocol core: import from here outside src/protocol.
export * from './model.ts';
export * from './codes.ts';
export * from './errors.ts';
export type { DecodeOptions, DecodeWarning, WbxmlEncodeOptions, XmlEncodeOptions } from './codec/options.ts';
export { DecodeWarningCode } from './codec/options.ts';
export { decodeXml, encodeXml, encodeXmlString } from './xml/index.ts';
export { escapeXml } from './xml/writer.ts';
export { decodeFragment, encodeFragment } from './xml/fragment.ts';
export { decodeWbxml, encodeWbxml } from './wbxml/index.ts';
export * from './auth/index.ts';
export * from './notification/index.ts';
