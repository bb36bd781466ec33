// What the client API's call handlers share (net/client-service.ts, net/produce-stream.ts,
// net/subscribe-stream.ts): the node, the limits, and the registry of open calls that a stopping node
// ends at once. Every call has a bound on how long it waits for the node, and a call that finished
// (answered, cancelled by the client, past its deadline, or aborted) is never written to again.
import type * as grpc from '@grpc/grpc-js';
import type { KeelNode } from '../broker/keel-node.ts';
import type { Logger } from '../broker/ports.ts';
import type { NodeId } from '../raft/types.ts';
import type { KeelError } from './client-errors.ts';

export interface ClientServiceLimits {
  /**
   * A request the node has not answered within this long fails with REQUEST_TIMED_OUT (plus the wait of
   * a long-polling fetch). The node's own timeouts (Raft proposals, forwarding) answer well before.
   */
  readonly callTimeoutMs: number;
  /** Calls open at once on this node (unary and streams); beyond it a call gets TOO_MANY_REQUESTS. */
  readonly openCallsMax: number;
  /** Requests in flight on one ProduceStream; beyond it a request is answered TOO_MANY_REQUESTS. */
  readonly streamInflightMax: number;
  /** Each long poll of a Subscribe waits at most this long before polling again. */
  readonly subscribePollWaitMs: number;
  /** A long poll ends this long before the call's deadline, so that its answer still arrives in time. */
  readonly deadlineMarginMs: number;
}

export const CLIENT_SERVICE_DEFAULTS: ClientServiceLimits = {
  callTimeoutMs: 15_000,
  openCallsMax: 10_000,
  streamInflightMax: 1_024,
  subscribePollWaitMs: 5_000,
  deadlineMarginMs: 50,
};

/** A call that the service can end early (the node is stopping). */
export interface OpenCall {
  abort(error: KeelError): void;
}

export interface ClientServiceContext {
  readonly node: KeelNode;
  readonly logger: Logger;
  readonly limits: ClientServiceLimits;
  /** The advertised address of a broker, from the metadata image. */
  addressOf(id: NodeId): string | undefined;
  /** Registers an open call; the returned function unregisters it (idempotent). */
  track(call: OpenCall): () => void;
}

/** Milliseconds until the call's deadline (Infinity without one; negative once it passed). */
export function remainingMs(call: { getDeadline(): grpc.Deadline }): number {
  const d = call.getDeadline();
  const at = d instanceof Date ? d.getTime() : d;
  return at === Infinity ? Infinity : at - Date.now();
}

/** How long a long poll may wait: its own bound, cut to end deadlineMarginMs before the call's deadline. */
export function pollWaitMs(wantedMs: number, call: { getDeadline(): grpc.Deadline }, limits: ClientServiceLimits): number {
  return Math.floor(Math.min(wantedMs, remainingMs(call) - limits.deadlineMarginMs));
}

export function describeThrown(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
