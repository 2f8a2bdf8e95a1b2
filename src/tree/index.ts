export * from './api.ts';
export * from './acl.ts';
export * from './uri.ts';
export * from './node.ts';
export * from './tree.ts';
export * from './mo/devinfo.ts';
export * from './mo/dmacc.ts';
export * from './mo/updates.ts';
