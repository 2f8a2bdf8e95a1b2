export * from './package0.ts';
export * from './verify.ts';
