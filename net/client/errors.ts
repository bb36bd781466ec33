// Errors of the client library. The broker's stable codes (NOT_LEADER, UNKNOWN_TOPIC, ...) travel as the
// keel-code trailer of a failed unary call or as an Error message inside a stream (client.proto); when no
// server answered, the client names what happened itself (CONNECTION_FAILED, UNAVAILABLE,
// DEADLINE_EXCEEDED, DISCONNECTED). Every error says whether retrying the same request may succeed.
import * as grpc from '@grpc/grpc-js';
import { KEEL_CODE_HEADER, KEEL_LEADER_ADDRESS_HEADER, KEEL_LEADER_HEADER } from '../client-schema.ts';
import type { WireError } from './wire.ts';

/** Codes the client produces itself, for failures that no broker reported. */
export const CLIENT_ERROR_CODES = [
  /** No connection to the address could be established (refused, unresolvable, unreachable). */
  'CONNECTION_FAILED',
  /** The connection was there but the call failed in transport (server shutting down, reset). */
  'UNAVAILABLE',
  /** No answer before the call's deadline: the outcome is unknown. */
  'DEADLINE_EXCEEDED',
  /** A stream ended while requests on it were still unanswered: their outcome is unknown. */
  'DISCONNECTED',
  'CANCELLED',
  /** The client (or producer) was closed. */
  'CLOSED',
  /**
   * The producer held as many unacknowledged records as it may (bufferedRecordsMax) for maxBlockMs, or a
   * ProduceStream has as many requests in flight as it may.
   */
  'BUFFER_FULL',
  /** The request was refused by the client before sending (bad argument). */
  'INVALID_REQUEST',
] as const;

export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/**
 * Codes after which the same request may succeed: leadership moves, timeouts with unknown outcome, a
 * cluster that is briefly without a quorum, metadata that is briefly stale. Everything else (bad input,
 * unknown topic, sequence errors) fails at once.
 */
const RETRIABLE_CODES: ReadonlySet<string> = new Set([
  'NOT_LEADER', 'NOT_CONTROLLER', 'REQUEST_TIMED_OUT', 'NOT_ENOUGH_REPLICAS', 'BROKER_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION', 'TRANSFER_IN_PROGRESS', 'UNCOMMITTED_LIMIT', 'PROPOSAL_LOST',
  'OUTCOME_UNKNOWN', 'GROUP_STOPPED', 'TOO_MANY_REQUESTS',
  'CONNECTION_FAILED', 'UNAVAILABLE', 'DEADLINE_EXCEEDED', 'DISCONNECTED', 'CANCELLED',
]);

/**
 * Codes that say "this address is not (or no longer) worth talking to for now": transport failures, and
 * a node that is shutting down (BROKER_NOT_AVAILABLE, net/client-service.ts).
 */
const CONNECTION_CODES: ReadonlySet<string> = new Set(['CONNECTION_FAILED', 'UNAVAILABLE', 'DEADLINE_EXCEEDED', 'DISCONNECTED', 'CANCELLED', 'BROKER_NOT_AVAILABLE']);

export function isRetriableCode(code: string): boolean {
  return RETRIABLE_CODES.has(code);
}

export interface KeelErrorInit {
  readonly code: string;
  readonly message: string;
  /** The gRPC status of the failed call; null when the error did not come from a call's status. */
  readonly grpcStatus?: number | null;
  readonly leader?: number;
  readonly leaderAddress?: string;
  /** Default: from the code (isRetriableCode). */
  readonly retriable?: boolean;
  /** The address the failed request went to, if any. */
  readonly address?: string;
}

export class KeelError extends Error {
  override readonly name = 'KeelError';
  /** A broker code (keel-code) or a ClientErrorCode. */
  readonly code: string;
  readonly grpcStatus: number | null;
  /** The leader (partition or controller) the answering node knows of; absent if none. */
  readonly leader?: number;
  readonly leaderAddress?: string;
  readonly retriable: boolean;
  readonly address?: string;

  constructor(init: KeelErrorInit) {
    super(init.message);
    this.code = init.code;
    this.grpcStatus = init.grpcStatus ?? null;
    if (init.leader !== undefined && init.leader !== 0) this.leader = init.leader;
    if (init.leaderAddress !== undefined && init.leaderAddress !== '') this.leaderAddress = init.leaderAddress;
    this.retriable = init.retriable ?? isRetriableCode(init.code);
    if (init.address !== undefined) this.address = init.address;
  }

  /** The failure concerns the connection to `address`, not the request: try elsewhere or later. */
  get connectionLevel(): boolean {
    return CONNECTION_CODES.has(this.code);
  }
}

export function isKeelError(e: unknown): e is KeelError {
  return e instanceof KeelError;
}

/** Why a connection could not be established, in a few words, from grpc-js's details text. */
export function connectionFailureReason(details: string): string | null {
  if (/ECONNREFUSED/.test(details)) return 'connection refused';
  if (/Name resolution failed|ENOTFOUND|EAI_AGAIN/.test(details)) return 'name resolution failed';
  if (/EHOSTUNREACH|ENETUNREACH/.test(details)) return 'host unreachable';
  if (/ETIMEDOUT/.test(details)) return 'connection timed out';
  if (/ECONNRESET/.test(details) && /No connection established/.test(details)) return 'connection reset';
  if (/No connection established/.test(details)) return 'no connection';
  return null;
}

function firstString(md: grpc.Metadata | undefined, key: string): string | undefined {
  const v = md?.get(key)[0];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.toString('utf8');
}

/** A failed unary call (or a stream ended with a non-OK status) as a KeelError. */
export function errorFromStatus(err: Partial<grpc.StatusObject> & { readonly message?: string }, address: string): KeelError {
  const status = err.code ?? grpc.status.UNKNOWN;
  const details = err.details ?? err.message ?? '';
  const keelCode = firstString(err.metadata, KEEL_CODE_HEADER);
  if (keelCode !== undefined && keelCode !== '') {
    const leaderText = firstString(err.metadata, KEEL_LEADER_HEADER);
    const leader = leaderText === undefined ? undefined : Number(leaderText);
    const leaderAddress = firstString(err.metadata, KEEL_LEADER_ADDRESS_HEADER);
    return new KeelError({
      code: keelCode,
      message: details === '' ? keelCode : details,
      grpcStatus: status,
      ...(leader !== undefined && Number.isSafeInteger(leader) ? { leader } : {}),
      ...(leaderAddress !== undefined ? { leaderAddress } : {}),
      address,
    });
  }
  if (status === grpc.status.UNAVAILABLE) {
    const reason = connectionFailureReason(details);
    if (reason !== null) return new KeelError({ code: 'CONNECTION_FAILED', message: `cannot reach ${address} (${reason})`, grpcStatus: status, address });
    return new KeelError({ code: 'UNAVAILABLE', message: `${address} is unavailable: ${details}`, grpcStatus: status, address });
  }
  if (status === grpc.status.DEADLINE_EXCEEDED) {
    return new KeelError({ code: 'DEADLINE_EXCEEDED', message: `no answer from ${address} before the deadline`, grpcStatus: status, address });
  }
  if (status === grpc.status.CANCELLED) return new KeelError({ code: 'CANCELLED', message: `call to ${address} cancelled: ${details}`, grpcStatus: status, address });
  // Without a keel-code the server did not understand us or broke (UNIMPLEMENTED, INTERNAL, a message
  // over the size limit): the same request would fail the same way.
  const name = grpc.status[status] ?? 'UNKNOWN';
  return new KeelError({ code: name, message: `${address}: ${details === '' ? name : details}`, grpcStatus: status, retriable: false, address });
}

/** An Error message from inside a stream (ProduceStream, Subscribe): a per-request answer, no gRPC status. */
export function errorFromMessage(e: WireError, address: string): KeelError {
  return new KeelError({
    code: e.code === '' ? 'UNKNOWN' : e.code,
    message: e.message === '' ? e.code : e.message,
    leader: e.leader,
    leaderAddress: e.leaderAddress,
    address,
  });
}

/** For calls on a closed client or producer. */
export function closedError(what: string): KeelError {
  return new KeelError({ code: 'CLOSED', message: `${what} is closed`, retriable: false });
}

/** A request refused before it was sent. */
export function invalidRequest(message: string): KeelError {
  return new KeelError({ code: 'INVALID_REQUEST', message, retriable: false });
}
