// Keel's stable error codes at the gRPC edge (STYLE.md §3: errors are values in the core, turned into
// statuses only here). One table maps every code to a gRPC status; a failed unary call carries the code
// and the leader hint in trailing metadata, a stream carries them in an Error message (client.proto).
import * as grpc from '@grpc/grpc-js';
import type { PartitionErrorCode } from '../broker/partition/partition-service.ts';
import type { AdminErrorCode } from '../controller/errors.ts';
import { NONE, type NodeId } from '../raft/types.ts';
import { KEEL_CODE_HEADER, KEEL_LEADER_ADDRESS_HEADER, KEEL_LEADER_HEADER } from './client-schema.ts';

/** Codes the client API adds at its edge; the core never produces them. */
export const API_ERROR_CODES = [
  /** A ProduceStream has the maximum number of requests in flight, or the node has too many streams. */
  'TOO_MANY_REQUESTS',
  /** The node failed the request in a way that is a bug (a core exception); the message says more. */
  'INTERNAL',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export type KeelErrorCode = AdminErrorCode | PartitionErrorCode | ApiErrorCode;

/** An error value of any layer, as it travels to a client. */
export interface KeelError {
  readonly code: KeelErrorCode;
  readonly message: string;
  /** The partition or controller leader this node knows (NONE or absent if unknown). */
  readonly leader?: NodeId;
  readonly leaderAddress?: string;
}

/** Status details and Error.message are cut to this many characters (they may echo client input). */
export const ERROR_MESSAGE_CHARS_MAX = 1_024;

/**
 * The gRPC status of every Keel error code. Retriable-elsewhere codes are UNAVAILABLE (a client retries
 * them, at the leader named in keel-leader-address when there is one); a code from a newer node that
 * this table does not know is UNKNOWN.
 */
export function grpcStatusFor(code: string): grpc.status {
  const c = code as KeelErrorCode;
  switch (c) {
    case 'NOT_LEADER':
    case 'NOT_CONTROLLER':
    case 'NOT_ENOUGH_REPLICAS':
    case 'BROKER_NOT_AVAILABLE':
      return grpc.status.UNAVAILABLE;
    case 'UNKNOWN_TOPIC':
    case 'UNKNOWN_TOPIC_OR_PARTITION':
      return grpc.status.NOT_FOUND;
    case 'TOPIC_ALREADY_EXISTS':
      return grpc.status.ALREADY_EXISTS;
    case 'INVALID_TOPIC':
    case 'INVALID_PARTITIONS':
    case 'INVALID_REPLICATION_FACTOR':
    case 'INVALID_CONFIG':
    case 'INVALID_REQUEST':
    case 'INVALID_GROUP':
    case 'INVALID_RECORD':
    case 'RECORD_TOO_LARGE':
      return grpc.status.INVALID_ARGUMENT;
    case 'OUT_OF_ORDER_SEQUENCE':
    case 'INVALID_PRODUCER_EPOCH':
    case 'STALE_BROKER_EPOCH':
    case 'UNKNOWN_MEMBER':
    case 'FENCED_MEMBER':
    case 'NON_EMPTY_GROUP':
      return grpc.status.FAILED_PRECONDITION;
    case 'OFFSET_OUT_OF_RANGE':
      return grpc.status.OUT_OF_RANGE;
    case 'REQUEST_TIMED_OUT':
      return grpc.status.DEADLINE_EXCEEDED;
    case 'TOO_MANY_REQUESTS':
      return grpc.status.RESOURCE_EXHAUSTED;
    case 'CORRUPT_RECORD':
    case 'INTERNAL':
      return grpc.status.INTERNAL;
    default: {
      // Every known code has a case (the compiler checks); a string from elsewhere lands here.
      const unknownCode: never = c;
      void unknownCode;
      return grpc.status.UNKNOWN;
    }
  }
}

export function keelError(code: KeelErrorCode, message: string): KeelError {
  return { code, message };
}

/** The leader hint of an error: its id (absent if none) and address (from the broker list if not given). */
function leaderHint(e: KeelError, addressOf: (id: NodeId) => string | undefined): { leader?: NodeId; address?: string } {
  if (e.leader === undefined || e.leader === NONE) return {};
  const address = e.leaderAddress !== undefined && e.leaderAddress !== '' ? e.leaderAddress : addressOf(e.leader);
  return address === undefined ? { leader: e.leader } : { leader: e.leader, address };
}

function clip(message: string): string {
  return message.length > ERROR_MESSAGE_CHARS_MAX ? `${message.slice(0, ERROR_MESSAGE_CHARS_MAX - 1)}…` : message;
}

/** A failed unary call: status, details and the keel-* trailers. */
export function toStatus(e: KeelError, addressOf: (id: NodeId) => string | undefined): grpc.StatusObject {
  const metadata = new grpc.Metadata();
  metadata.set(KEEL_CODE_HEADER, e.code);
  const hint = leaderHint(e, addressOf);
  if (hint.leader !== undefined) metadata.set(KEEL_LEADER_HEADER, String(hint.leader));
  if (hint.address !== undefined) metadata.set(KEEL_LEADER_ADDRESS_HEADER, hint.address);
  return { code: grpcStatusFor(e.code), details: clip(e.message), metadata };
}

/** The keel.v1.Error message of a stream (leader 0 and an empty address when unknown). */
export function toErrorMessage(e: KeelError, addressOf: (id: NodeId) => string | undefined): { code: string; message: string; leader: number; leaderAddress: string } {
  const hint = leaderHint(e, addressOf);
  return { code: e.code, message: clip(e.message), leader: hint.leader ?? 0, leaderAddress: hint.address ?? '' };
}
