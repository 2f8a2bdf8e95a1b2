export * from './errors.ts';
export * from './http/content-type.ts';
export * from './http/server.ts';
export * from './http/client.ts';
export * from './udp/push.ts';
export * from './udp/listen.ts';
export * from './http/files.ts';
export * from './http/fetch-file.ts';
