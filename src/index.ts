// The package's public API. Everything not exported here is internal.
export { EntraSyncError, type ErrorLocation } from './errors.js';
export type * from './targets/connector.js';
export { TargetError } from './targets/connector.js';
export type * from './source/types.js';
