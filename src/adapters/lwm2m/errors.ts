// Why a CoAP exchange with a device gave no answer: the driver maps each to a DM status (a timeout
// is 408, a request refused before it left is 4xx/5xx with this message).
export const CoapExchangeErrorCode = {
  NotRegistered: 'COAP_NOT_REGISTERED',
  Timeout: 'COAP_TIMEOUT',
  TooLarge: 'COAP_TOO_LARGE',
  SendFailed: 'COAP_SEND_FAILED',
  Stopped: 'COAP_STOPPED',
} as const;
export type CoapExchangeErrorCode = (typeof CoapExchangeErrorCode)[keyof typeof CoapExchangeErrorCode];

export class CoapExchangeError extends Error {
  readonly code: CoapExchangeErrorCode;
  readonly endpoint: string;
  constructor(code: CoapExchangeErrorCode, endpoint: string, detail: string) {
    super(detail);
    this.name = 'CoapExchangeError';
    this.code = code;
    this.endpoint = endpoint;
  }
}
