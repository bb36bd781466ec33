// Public surface of the Raft core.
export * from './types.ts';
export { RawNode } from './raw-node.ts';
export type { Ready, PersistAck, Status, ProgressStatus, ReadIndexResult } from './raw-node.ts';
export type { ProposeResult, ProposeError, TransferResult } from './replication.ts';
export { MemoryStorage, type LogStorage } from './storage.ts';
export { RAFT_DEFAULTS, SILENT_LOGGER, type RaftOptions, type RaftConfig, type Rng, type RaftLogger, type PlantedBugs } from './config.ts';
export { encodeConfChange, decodeConfChange } from './confchange-codec.ts';
export { AssertionError, assert } from './assert.ts';
