export * from './digest.ts';
export * from './nonce.ts';
export * from './hmac-header.ts';
export * from './cred.ts';
