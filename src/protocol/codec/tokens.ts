// The seam between an encoding and the message model: a pull reader of element tokens and a
// writer of them. XML and WBXML each implement both; read-message.ts and write-message.ts hold the
// SyncML structure once, for both encodings.

/** Non-tag results of TokenReader.next(); tag ids (see tags.ts) are >= 0, 0 = unknown element. */
export const Tok = { End: -1, Text: -2, Opaque: -3, Eof: -4 } as const;
export const UNKNOWN_TAG = 0;

export interface TokenReader {
  /**
   * Advances to the next token: a tag id for an element start (an empty element is followed by
   * Tok.End), or Tok.End / Tok.Text / Tok.Opaque / Tok.Eof.
   */
  next(): number;
  /** The text of the last Tok.Text. */
  readonly text: string;
  /** The bytes of the last Tok.Opaque. */
  readonly bytes: Uint8Array;
  /** The name of the last element start (meaningful for UNKNOWN_TAG). */
  readonly name: string;
  /** Where the last token started (characters for XML, bytes for WBXML). */
  readonly offset: number;
}

export interface TokenWriter {
  start(tag: number): void;
  /** An element without content (`<Final/>`, WBXML token without the content bit). */
  empty(tag: number): void;
  end(): void;
  text(value: string): void;
  /** Text of a Data element: WBXML may need OPAQUE for text it cannot inline (NUL). */
  dataText(value: string): void;
  /** Raw bytes of Data with Format bin. */
  opaque(value: Uint8Array): void;
}
