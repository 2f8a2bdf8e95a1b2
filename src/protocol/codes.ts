// SyncML RepPro / OMA DM 1.2 status and alert codes (../shared/spec/oma-dm-protocol.md §3.3, §4).

export const StatusCode = {
  InProgress: 101,
  Ok: 200,
  ItemAdded: 201,
  Accepted: 202,
  NonAuthoritative: 203,
  NoContent: 204,
  ResetContent: 205,
  PartialContent: 206,
  AuthAccepted: 212,
  ChunkAccepted: 213,
  OperationCancelled: 214,
  NotExecuted: 215,
  AtomicRollbackOk: 216,
  MultipleChoices: 300,
  MovedPermanently: 301,
  Found: 302,
  SeeOther: 303,
  NotModified: 304,
  UseProxy: 305,
  BadRequest: 400,
  Unauthorized: 401,
  PaymentRequired: 402,
  Forbidden: 403,
  NotFound: 404,
  CommandNotAllowed: 405,
  OptionalFeatureNotSupported: 406,
  MissingCredentials: 407,
  RequestTimeout: 408,
  Conflict: 409,
  Gone: 410,
  SizeRequired: 411,
  IncompleteCommand: 412,
  RequestEntityTooLarge: 413,
  UriTooLong: 414,
  UnsupportedMediaType: 415,
  RequestedSizeTooBig: 416,
  RetryLater: 417,
  AlreadyExists: 418,
  ConflictResolvedWithServerData: 419,
  DeviceFull: 420,
  UnknownSearchGrammar: 421,
  BadCgiScript: 422,
  SoftDeleteConflict: 423,
  SizeMismatch: 424,
  PermissionDenied: 425,
  PartialItemNotAccepted: 426,
  ItemNotEmpty: 427,
  MoveFailed: 428,
  CommandFailed: 500,
  CommandNotImplemented: 501,
  BadGateway: 502,
  ServiceUnavailable: 503,
  GatewayTimeout: 504,
  DtdVersionNotSupported: 505,
  ProcessingError: 506,
  AtomicFailed: 507,
  RefreshRequired: 508,
  DataStoreFailure: 510,
  ServerFailure: 511,
  SynchronizationFailed: 512,
  ProtocolVersionNotSupported: 513,
  OperationCancelledServer: 514,
  AtomicRollbackFailed: 516,
  AtomicResponseTooLarge: 517,
} as const;
export type KnownStatus = (typeof StatusCode)[keyof typeof StatusCode];

const statusMeaning: ReadonlyMap<number, string> = new Map([
  [101, 'In progress'],
  [200, 'OK'],
  [201, 'Item added'],
  [202, 'Accepted for processing'],
  [203, 'Non-authoritative response'],
  [204, 'No content'],
  [205, 'Reset content'],
  [206, 'Partial content'],
  [212, 'Authentication accepted'],
  [213, 'Chunked item accepted and buffered'],
  [214, 'Operation cancelled'],
  [215, 'Not executed'],
  [216, 'Atomic roll back OK'],
  [300, 'Multiple choices'],
  [301, 'Moved permanently'],
  [302, 'Found'],
  [303, 'See other'],
  [304, 'Not modified'],
  [305, 'Use proxy'],
  [400, 'Bad request'],
  [401, 'Invalid credentials'],
  [402, 'Payment required'],
  [403, 'Forbidden'],
  [404, 'Not found'],
  [405, 'Command not allowed'],
  [406, 'Optional feature not supported'],
  [407, 'Missing credentials'],
  [408, 'Request timeout'],
  [409, 'Conflict'],
  [410, 'Gone'],
  [411, 'Size required'],
  [412, 'Incomplete command'],
  [413, 'Request entity too large'],
  [414, 'URI too long'],
  [415, 'Unsupported media type or format'],
  [416, 'Requested size too big'],
  [417, 'Retry later'],
  [418, 'Already exists'],
  [419, 'Conflict resolved with server data'],
  [420, 'Device full'],
  [421, 'Unknown search grammar'],
  [422, 'Bad CGI script'],
  [423, 'Soft-delete conflict'],
  [424, 'Size mismatch'],
  [425, 'Permission denied'],
  [426, 'Partial item not accepted'],
  [427, 'Item not empty'],
  [428, 'Move failed'],
  [500, 'Command failed'],
  [501, 'Command not implemented'],
  [502, 'Bad gateway'],
  [503, 'Service unavailable'],
  [504, 'Gateway timeout'],
  [505, 'DTD version not supported'],
  [506, 'Processing error'],
  [507, 'Atomic failed'],
  [508, 'Refresh required'],
  [510, 'Data store failure'],
  [511, 'Server failure'],
  [512, 'Synchronization failed'],
  [513, 'Protocol version not supported'],
  [514, 'Operation cancelled'],
  [516, 'Atomic roll back failed'],
  [517, 'Atomic response too large to fit'],
]);

/** The RepPro name of a status code, or a generic description by class. */
export function statusMeaningOf(code: number): string {
  const known = statusMeaning.get(code);
  if (known !== undefined) return known;
  if (code >= 200 && code < 300) return 'Success';
  if (code >= 400 && code < 500) return 'Originator exception';
  if (code >= 500 && code < 600) return 'Recipient exception';
  return 'Unknown status';
}

export function isSuccessStatus(code: number): boolean {
  return code >= 200 && code < 300;
}

export const AlertCode = {
  Display: 1100,
  ConfirmOrReject: 1101,
  TextInput: 1102,
  SingleChoice: 1103,
  MultipleChoice: 1104,
  ServerInitiatedMgmt: 1200,
  ClientInitiatedMgmt: 1201,
  NextMessage: 1222,
  SessionAbort: 1223,
  ClientEvent: 1224,
  NoEndOfData: 1225,
  GenericAlert: 1226,
} as const;
export type KnownAlert = (typeof AlertCode)[keyof typeof AlertCode];

const alertMeaning: ReadonlyMap<number, string> = new Map([
  [1100, 'Display'],
  [1101, 'Confirm or reject'],
  [1102, 'Text input'],
  [1103, 'Single choice'],
  [1104, 'Multiple choice'],
  [1200, 'Server-initiated management'],
  [1201, 'Client-initiated management'],
  [1222, 'Next message'],
  [1223, 'Session abort'],
  [1224, 'Client event'],
  [1225, 'No end of data'],
  [1226, 'Generic alert'],
]);

export function alertMeaningOf(code: number): string {
  return alertMeaning.get(code) ?? 'Unknown alert';
}

/** UI alerts (1100–1104) go server → client only. */
export function isUiAlert(code: number): boolean {
  return code >= 1100 && code <= 1104;
}

/** Authentication schemes as written in Cred/Chal Meta Type. */
export const AuthScheme = {
  Basic: 'syncml:auth-basic',
  Md5: 'syncml:auth-md5',
  Hmac: 'syncml:auth-MAC',
} as const;
export type AuthScheme = (typeof AuthScheme)[keyof typeof AuthScheme];

export const ContentType = {
  DmXml: 'application/vnd.syncml.dm+xml',
  DmWbxml: 'application/vnd.syncml.dm+wbxml',
  Notification: 'application/vnd.syncml.notification',
} as const;
