// keel.v1.Keel/Subscribe: tails a partition. A loop of long-polling fetches from the requested offset;
// each non-empty answer goes out as one batch, and the next poll starts once that batch was handed to
// the transport (so at most one batch per subscriber is buffered). The loop ends when the client
// cancels or the deadline comes, or with an Error message on any error: NOT_LEADER included, so that
// the client subscribes again at the leader (keel-leader-address is in the Error message).
import type * as grpc from '@grpc/grpc-js';
import type { FetchResponse, PResult } from '../broker/partition/partition-service.ts';
import { describeThrown, pollWaitMs, type ClientServiceContext, type OpenCall } from './client-calls.ts';
import { decodeSubscribeRequest, encodeFetchResponse, type SubscribeRequest } from './client-convert.ts';
import { keelError, toErrorMessage, type KeelError } from './client-errors.ts';

export class SubscribeCall implements OpenCall {
  private finished = false;
  /** The next offset to fetch. */
  private offset = 0;
  /** Identifies the outstanding fetch; an answer for an older one (after its timeout) is ignored. */
  private pollSeq = 0;
  private timer: NodeJS.Timeout | undefined;
  private untrack: () => void = () => {};

  constructor(
    private readonly call: grpc.ServerWritableStream<unknown, unknown>,
    private readonly ctx: ClientServiceContext,
  ) {
    call.on('cancelled', () => this.stop());
    call.on('error', () => this.stop());
    call.on('close', () => this.stop());
    const d = decodeSubscribeRequest(call.request);
    if (!d.ok) {
      this.endWith(d.error);
      return;
    }
    this.untrack = ctx.track(this);
    this.offset = d.value.offset;
    this.poll(d.value);
  }

  abort(error: KeelError): void {
    this.endWith(error);
  }

  private poll(req: SubscribeRequest): void {
    if (this.finished) return;
    const limits = this.ctx.limits;
    const waitMs = pollWaitMs(limits.subscribePollWaitMs, this.call, limits);
    // The deadline is about to end the call (grpc-js cancels it then): nothing more to fetch.
    if (waitMs < 0) return;
    const seq = ++this.pollSeq;
    this.timer = setTimeout(() => {
      if (seq === this.pollSeq) this.endWith(keelError('REQUEST_TIMED_OUT', `no answer from the node within ${waitMs + limits.callTimeoutMs} ms`));
    }, waitMs + limits.callTimeoutMs);
    this.timer.unref();
    try {
      this.ctx.node.fetch({ topic: req.topic, partition: req.partition, offset: this.offset, maxBytes: req.maxBytes, maxWaitMs: waitMs }, (r) => this.fetched(seq, req, r));
    } catch (err) {
      this.ctx.logger.error('fetch threw', { error: describeThrown(err) });
      this.endWith(keelError('INTERNAL', `the node failed the request: ${describeThrown(err)}`));
    }
  }

  /** Called by the node from inside its turn: nothing may throw back into it (see net/client-service.ts). */
  private fetched(seq: number, req: SubscribeRequest, r: PResult<FetchResponse>): void {
    if (this.finished || seq !== this.pollSeq) return;
    this.pollSeq++;
    clearTimeout(this.timer);
    try {
      if (!r.ok) return this.endWith(r.error);
      const last = r.value.records[r.value.records.length - 1];
      // A long poll that ended without records: poll again (off this stack, the answer may be synchronous).
      if (last === undefined) return void setImmediate(() => this.poll(req));
      this.offset = last.offset + 1;
      this.call.write({ batch: encodeFetchResponse(r.value) }, () => this.poll(req));
    } catch (err) {
      this.ctx.logger.error('answering a subscription threw', { error: describeThrown(err) });
      try {
        this.endWith(keelError('INTERNAL', `the node could not encode its answer: ${describeThrown(err)}`));
      } catch {
        // the stream is beyond answering; it ends when the client goes away
      }
    }
  }

  /** Sends the error as the last message and ends the stream (status OK: the error is in the message). */
  private endWith(error: KeelError): void {
    if (this.finished) return;
    this.stop();
    if (this.call.cancelled) return;
    this.call.write({ error: toErrorMessage(error, (id) => this.ctx.addressOf(id)) });
    this.call.end();
  }

  private stop(): void {
    if (this.finished) return;
    this.finished = true;
    this.pollSeq++;
    clearTimeout(this.timer);
    this.untrack();
  }
}
