// The only doors between a Keel node and the world (DESIGN.md §2). The real runtime implements them
// with timers, gRPC and LevelDB (net/); the simulator with virtual time, a simulated network and an
// in-memory disk (sim/). Everything is callback-driven: no Promises cross a port.
import type { Rng } from '../raft/config.ts';
import type { Message, NodeId } from '../raft/types.ts';

export type { Rng };

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Monotonic milliseconds on this node's clock (may be skewed and drift in the simulator). */
  now(): number;
  /** Milliseconds since the Unix epoch, for record timestamps. Not monotonic. */
  wallMs(): number;
  /** Runs `fn` after `delayMs` of local time (0 = as soon as the current work is done). */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  cancelTimer(handle: TimerHandle): void;
}

/** A Raft group hosted by the cluster: 0 is the controller (metadata), partitions use 1 and up. */
export type GroupId = number;
export const CONTROLLER_GROUP: GroupId = 0;

export interface GroupMessage {
  readonly group: GroupId;
  readonly msg: Message;
}

/**
 * Everything one node sends one peer in one driver turn: the Raft messages of every group (so heartbeats
 * of idle groups travel together) and node-level RPCs (forwarded requests and their answers).
 */
export interface Frame {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's incarnation (KeelNode.incarnation: an id of its process life); 0 while not yet known. */
  readonly fromIncarnation: number;
  readonly messages: readonly GroupMessage[];
  readonly rpcs: readonly NodeRpc[];
}

/** A node-to-node request or response carried in a frame; bodies are opaque to the transport. */
export interface NodeRpc {
  /**
   * 'unanswered': the receiver's answer to a request meant for an earlier life of it. It gives no
   * verdict (that life may have acted on the request): the requester hears "no answer", at once instead
   * of at its timeout, and learns the receiver's current incarnation from the frame.
   */
  readonly kind: 'request' | 'response' | 'unanswered';
  /** Correlates a response with its request; unique per sender incarnation. */
  readonly id: number;
  readonly method: string;
  readonly body: unknown;
  /**
   * The incarnation of the receiver this is meant for (0: any). Another life of the receiver gives no
   * verdict on a request meant for an earlier one (that life may have acted on it): it answers
   * 'unanswered'. A response meant for an earlier life of its requester is dropped (its id may be
   * reused by the new life's requests).
   */
  readonly toIncarnation: number;
}

export interface Transport {
  /** Fire and forget: frames may be lost, delayed, duplicated or reordered; Raft copes. */
  send(to: NodeId, frame: Frame): void;
}

export type WriteOp =
  | { readonly type: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: string }
  /** Deletes every key k with gte <= k < lt. */
  | { readonly type: 'delRange'; readonly gte: string; readonly lt: string };

export interface StorageError {
  readonly code: 'IO_ERROR' | 'FSYNC_FAILED' | 'CLOSED';
  readonly message: string;
}

export interface Storage {
  /** Every stored record, sorted by key. Called once, at start. */
  load(done: (records: ReadonlyMap<string, Uint8Array>, err: StorageError | null) => void): void;
  /**
   * Writes the batch atomically and durably (fsync) and then calls done(null). A batch is all or
   * nothing after a crash. Batches complete in submission order. done(err) means the node can no
   * longer trust its disk: it must stop (fsync failures are not retried, PostgreSQL's lesson).
   */
  write(batch: readonly WriteOp[], done: (err: StorageError | null) => void): void;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const SILENT: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export interface Ports {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly transport: Transport;
  readonly storage: Storage;
  readonly logger: Logger;
}
