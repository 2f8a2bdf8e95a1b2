/** What a lenient read let pass (docs/errors.md, docs/interop.md). */
export const DecodeWarningCode = {
  SkippedElement: 'DM_SKIPPED_ELEMENT',
  FormatCase: 'DM_FORMAT_CASE',
  FormatMime: 'DM_FORMAT_MIME',
  StatusNoCmdRef: 'DM_STATUS_NO_CMDREF',
} as const;
export type DecodeWarningCode = (typeof DecodeWarningCode)[keyof typeof DecodeWarningCode];

export interface DecodeWarning {
  readonly code: DecodeWarningCode;
  readonly offset: number;
  readonly message: string;
}

export interface DecodeOptions {
  /** Refuse input longer than this many bytes (default 8 MiB). */
  readonly maxBytes?: number;
  /** Refuse element nesting deeper than this (default 32). */
  readonly maxDepth?: number;
  /** Told about quirks the decoder tolerated (skipped DS-only elements, …). */
  readonly onWarning?: (warning: DecodeWarning) => void;
}

export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 32;

export interface XmlEncodeOptions {
  /** Write the XML declaration and DOCTYPE (default: declaration only). */
  readonly doctype?: boolean;
}

export interface WbxmlEncodeOptions {
  /** WBXML version byte: 1 = 1.1, 2 = 1.2 (default), 3 = 1.3. */
  readonly version?: 1 | 2 | 3;
}
