export { Suite, type SuiteId, suiteName } from './cipher.ts';
export { type DtlsClientOptions, connectDtls } from './client.ts';
export type { DtlsConnection, DtlsSession, Peer } from './connection.ts';
export { createDtlsServer, DtlsServer, type DtlsServerOptions, type DtlsServerStats } from './server.ts';
export type { PskKeys, PskLookup, ServerConnection, ServerRpk } from './server-connection.ts';
export { type RpkKeys, spkiOf } from './rpk.ts';
export { connectionSocket, datagramSocket } from './datagram-socket.ts';
