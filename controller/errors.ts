// Stable error codes of admin and metadata operations. They are values, never exceptions: net/ maps
// them to gRPC status codes, the CLI to messages and exit codes. The strings never change.
import type { NodeId } from '../raft/types.ts';

export const ADMIN_ERROR_CODES = [
  'NOT_CONTROLLER',
  'TOPIC_ALREADY_EXISTS',
  'UNKNOWN_TOPIC',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'INVALID_TOPIC',
  'INVALID_PARTITIONS',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_CONFIG',
  'INVALID_REQUEST',
  'INVALID_GROUP',
  /** A member id the group does not know (it left, or its session lapsed): rejoin. */
  'UNKNOWN_MEMBER',
  /** A member committing a partition it does not own (it was reassigned). */
  'FENCED_MEMBER',
  /** The operation needs a group without members (reset, delete, a commit from outside the group). */
  'NON_EMPTY_GROUP',
  'BROKER_NOT_AVAILABLE',
  'STALE_BROKER_EPOCH',
  'REQUEST_TIMED_OUT',
] as const;

export type AdminErrorCode = (typeof ADMIN_ERROR_CODES)[number];

export interface AdminError {
  readonly code: AdminErrorCode;
  readonly message: string;
  /** For NOT_CONTROLLER: the controller leader this node knows of (0 if none). */
  readonly leader?: NodeId;
}

export type AdminResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: AdminError };

export function adminError(code: AdminErrorCode, message: string, leader?: NodeId): { ok: false; error: AdminError } {
  return { ok: false, error: leader === undefined ? { code, message } : { code, message, leader } };
}

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}
