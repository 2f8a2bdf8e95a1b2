export * from './types.ts';
export * from './engine.ts';
export { standInNonce } from './auth.ts';
export { resendable, RETRIED_ON_DROP } from './profile.ts';
