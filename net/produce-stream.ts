// keel.v1.Keel/ProduceStream: many produce requests pipelined on one bidi stream (DESIGN.md §7), matched
// to their answers by correlation id. Answers go out as they come (out of order across partitions);
// at most streamInflightMax requests are in flight per stream, and a request beyond that is answered at
// once with TOO_MANY_REQUESTS. Per-request failures are Error messages; only a message without a usable
// correlation id (undecodable bytes) fails the whole stream, with INVALID_ARGUMENT. When the client
// half-closes, the stream ends once every request in flight has been answered.
//
// Backpressure: while the response side is backed up (the client does not read), no more requests are
// read, so a client cannot make the node buffer answers without bound.
import type * as grpc from '@grpc/grpc-js';
import type { PResult, ProduceResponse } from '../broker/partition/partition-service.ts';
import { describeThrown, type ClientServiceContext, type OpenCall } from './client-calls.ts';
import { decodeProduceStreamRequest, encodeProduceResponse } from './client-convert.ts';
import { keelError, toErrorMessage, toStatus, type KeelError } from './client-errors.ts';

/** One request in flight; identity (not the id) tells a late answer from the answer of a reused id. */
interface InFlight {
  readonly correlationId: number;
  readonly timer: NodeJS.Timeout;
}

type Outcome = PResult<ProduceResponse> | { readonly ok: false; readonly error: KeelError };

export class ProduceStreamCall implements OpenCall {
  /** Invariant: size <= limits.streamInflightMax. */
  private readonly inflight = new Map<number, InFlight>();
  /** The client half-closed: no more requests will come. */
  private clientDone = false;
  /** The call is over (ended by us, cancelled, or failed): nothing is written any more. */
  private finished = false;
  private readonly untrack: () => void;

  constructor(
    private readonly call: grpc.ServerDuplexStream<unknown, unknown>,
    private readonly ctx: ClientServiceContext,
  ) {
    this.untrack = ctx.track(this);
    call.on('data', (m: unknown) => this.onRequest(m));
    call.on('end', () => {
      this.clientDone = true;
      this.maybeEnd();
    });
    call.on('drain', () => call.resume());
    call.on('cancelled', () => this.stop());
    call.on('error', () => this.stop());
    call.on('close', () => this.stop());
  }

  abort(error: KeelError): void {
    this.fail(error);
  }

  private onRequest(m: unknown): void {
    if (this.finished) return;
    const d = decodeProduceStreamRequest(m);
    if (d.correlationId === null) return this.fail(d.ok ? keelError('INVALID_REQUEST', 'no correlation id') : d.error);
    const id = d.correlationId;
    if (!d.ok) return this.send(id, d);
    if (this.inflight.has(id)) return this.send(id, { ok: false, error: keelError('INVALID_REQUEST', `correlation id ${id} is already in flight on this stream`) });
    const max = this.ctx.limits.streamInflightMax;
    if (this.inflight.size >= max) {
      return this.send(id, { ok: false, error: keelError('TOO_MANY_REQUESTS', `${max} requests are in flight on this stream; wait for answers before sending more`) });
    }
    const timeoutMs = this.ctx.limits.callTimeoutMs;
    const entry: InFlight = {
      correlationId: id,
      timer: setTimeout(() => this.answer(entry, { ok: false, error: keelError('REQUEST_TIMED_OUT', `no answer from the node within ${timeoutMs} ms; the batch may still be written`) }), timeoutMs),
    };
    entry.timer.unref();
    this.inflight.set(id, entry);
    try {
      this.ctx.node.produce(d.request, (r) => this.answer(entry, r));
    } catch (err) {
      this.ctx.logger.error('produce threw', { error: describeThrown(err) });
      this.answer(entry, { ok: false, error: keelError('INTERNAL', `the node failed the request: ${describeThrown(err)}`) });
    }
  }

  /** Called by the node from inside its turn: nothing may throw back into it (see net/client-service.ts). */
  private answer(entry: InFlight, r: Outcome): void {
    if (this.inflight.get(entry.correlationId) !== entry) return; // timed out, or the stream ended
    this.inflight.delete(entry.correlationId);
    clearTimeout(entry.timer);
    try {
      this.send(entry.correlationId, r);
      this.maybeEnd();
    } catch (err) {
      this.ctx.logger.error('answering a produce stream request threw', { error: describeThrown(err) });
      try {
        this.fail(keelError('INTERNAL', `the node could not encode its answer: ${describeThrown(err)}`));
      } catch {
        // the stream is beyond answering; it ends when the client goes away
      }
    }
  }

  private send(correlationId: number, r: Outcome): void {
    if (this.finished || this.call.cancelled) return;
    const msg = r.ok
      ? { correlationId, ok: encodeProduceResponse(r.value) }
      : { correlationId, error: toErrorMessage(r.error, (id) => this.ctx.addressOf(id)) };
    // The answer side is backed up: stop reading requests until it drains.
    if (!this.call.write(msg)) this.call.pause();
  }

  private maybeEnd(): void {
    if (this.finished || !this.clientDone || this.inflight.size > 0) return;
    this.stop();
    if (!this.call.cancelled) this.call.end();
  }

  /** Ends the whole stream with a status (grpc-js turns an emitted error into the call's status). */
  private fail(error: KeelError): void {
    if (this.finished) return;
    this.stop();
    if (!this.call.cancelled) this.call.emit('error', toStatus(error, (id) => this.ctx.addressOf(id)));
  }

  private stop(): void {
    if (this.finished) return;
    this.finished = true;
    for (const e of this.inflight.values()) clearTimeout(e.timer);
    this.inflight.clear();
    this.untrack();
  }
}
