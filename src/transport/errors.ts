export const TransportErrorCode = {
  HttpStatus: 'TRANSPORT_HTTP_STATUS',
  Timeout: 'TRANSPORT_TIMEOUT',
  Connect: 'TRANSPORT_CONNECT',
  BadResponse: 'TRANSPORT_BAD_RESPONSE',
} as const;
export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

/** A DM message could not be carried; the message says what to check. */
export class TransportError extends Error {
  readonly code: TransportErrorCode;
  readonly httpStatus: number | undefined;
  constructor(code: TransportErrorCode, message: string, httpStatus?: number) {
    super(message);
    this.name = 'TransportError';
    this.code = code;
    this.httpStatus = httpStatus;
  }
}
