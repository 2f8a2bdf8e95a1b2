// One error class per failure family, each with a stable `code` (listed in docs/errors.md; never
// reused) and the context needed to act on it. A DM Status is an answer, not an exception: these
// errors mean "no usable message".

export const XmlErrorCode = {
  Malformed: 'XML_MALFORMED',
  MismatchedTag: 'XML_MISMATCHED_TAG',
  UnknownEntity: 'XML_UNKNOWN_ENTITY',
  Unsupported: 'XML_UNSUPPORTED',
  Truncated: 'XML_TRUNCATED',
} as const;
export type XmlErrorCode = (typeof XmlErrorCode)[keyof typeof XmlErrorCode];

export const WbxmlErrorCode = {
  Truncated: 'WBXML_TRUNCATED',
  UnsupportedVersion: 'WBXML_UNSUPPORTED_VERSION',
  UnknownPublicId: 'WBXML_UNKNOWN_PUBLIC_ID',
  UnsupportedCharset: 'WBXML_UNSUPPORTED_CHARSET',
  UnknownToken: 'WBXML_UNKNOWN_TOKEN',
  UnknownCodePage: 'WBXML_UNKNOWN_CODE_PAGE',
  BadStringTableRef: 'WBXML_BAD_STRING_TABLE_REF',
  BadInteger: 'WBXML_BAD_INTEGER',
  TrailingBytes: 'WBXML_TRAILING_BYTES',
} as const;
export type WbxmlErrorCode = (typeof WbxmlErrorCode)[keyof typeof WbxmlErrorCode];

/** Structure errors, shared by both encodings: the markup was fine, the SyncML was not. */
export const MessageErrorCode = {
  UnknownElement: 'DM_UNKNOWN_ELEMENT',
  UnexpectedElement: 'DM_UNEXPECTED_ELEMENT',
  UnexpectedText: 'DM_UNEXPECTED_TEXT',
  MissingElement: 'DM_MISSING_ELEMENT',
  BadValue: 'DM_BAD_VALUE',
  TooDeep: 'DM_TOO_DEEP',
  TooLarge: 'DM_TOO_LARGE',
  NotRepresentable: 'DM_NOT_REPRESENTABLE',
  InvalidModel: 'DM_INVALID_MODEL',
} as const;
export type MessageErrorCode = (typeof MessageErrorCode)[keyof typeof MessageErrorCode];

export const NotificationErrorCode = {
  Truncated: 'PKG0_TRUNCATED',
  BadField: 'PKG0_BAD_FIELD',
  UnsupportedVersion: 'PKG0_UNSUPPORTED_VERSION',
} as const;
export type NotificationErrorCode = (typeof NotificationErrorCode)[keyof typeof NotificationErrorCode];

export const AuthErrorCode = {
  BadHmacHeader: 'AUTH_BAD_HMAC_HEADER',
  UnsupportedScheme: 'AUTH_UNSUPPORTED_SCHEME',
  BadNonce: 'AUTH_BAD_NONCE',
} as const;
export type AuthErrorCode = (typeof AuthErrorCode)[keyof typeof AuthErrorCode];

/** A message could not be decoded (or a model could not be encoded: offset -1). */
export class DecodeError extends Error {
  readonly code: XmlErrorCode | WbxmlErrorCode | MessageErrorCode;
  readonly offset: number;
  constructor(code: XmlErrorCode | WbxmlErrorCode | MessageErrorCode, offset: number, detail: string) {
    super(offset >= 0 ? `${detail} at offset ${offset}` : detail);
    this.name = 'DecodeError';
    this.code = code; // assigned in the body: parameter properties are not erasable syntax
    this.offset = offset;
  }
}

/** XML markup errors; offset is in characters of the decoded text. */
export class XmlError extends DecodeError {
  constructor(code: XmlErrorCode, offset: number, detail: string) {
    super(code, offset, detail);
    this.name = 'XmlError';
  }
}

/** WBXML errors; offset is in bytes. */
export class WbxmlError extends DecodeError {
  constructor(code: WbxmlErrorCode, offset: number, detail: string) {
    super(code, offset, detail);
    this.name = 'WbxmlError';
  }
}

/** SyncML structure errors, in either encoding (and invalid models handed to an encoder). */
export class MessageError extends DecodeError {
  constructor(code: MessageErrorCode, offset: number, detail: string) {
    super(code, offset, detail);
    this.name = 'MessageError';
  }
}

/** Package#0 could not be decoded or encoded; offset in bytes (-1 when encoding). */
export class NotificationError extends Error {
  readonly code: NotificationErrorCode;
  readonly offset: number;
  constructor(code: NotificationErrorCode, offset: number, detail: string) {
    super(offset >= 0 ? `${detail} at byte ${offset}` : detail);
    this.name = 'NotificationError';
    this.code = code;
    this.offset = offset;
  }
}

/** Malformed authentication input. Never carries a secret in its message. */
export class AuthError extends Error {
  readonly code: AuthErrorCode;
  constructor(code: AuthErrorCode, detail: string) {
    super(detail);
    this.name = 'AuthError';
    this.code = code;
  }
}
