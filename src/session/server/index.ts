export * from './types.ts';
export * from './engine.ts';
export { standInNonce } from './auth.ts';
