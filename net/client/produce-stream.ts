// One ProduceStream to one broker: many produce requests in flight at once, each tagged with a
// correlation id and matched with its answer whatever order answers come in (DESIGN.md §7: a bidi stream
// carries an order of magnitude more requests per second than unary calls). Each request has its own
// timer. When the stream breaks, every unanswered request fails with a retriable error whose outcome is
// unknown (the caller's idempotent retry settles it); the next send opens a new stream.
import type { ServiceError } from '@grpc/grpc-js';
import type { ProduceStreamCall } from './calls.ts';
import type { ClientEnv, TimerHandle } from './env.ts';
import { errorFromMessage, errorFromStatus, KeelError } from './errors.ts';
import type { WireProduceRequest, WireProduceResponse, WireProduceStreamResponse } from './wire.ts';

/** What the producer needs from a connection (a fake in tests). */
export interface ProduceChannel {
  /** No more sends: the stream failed or was closed. */
  readonly broken: boolean;
  send(request: WireProduceRequest, timeoutMs: number): Promise<WireProduceResponse>;
  close(): void;
}

interface Pending {
  readonly resolve: (r: WireProduceResponse) => void;
  readonly reject: (e: KeelError) => void;
  readonly timer: TimerHandle;
}

/** Requests one stream may have unanswered; the producer's inFlightMax keeps it far below. */
export const STREAM_PENDING_MAX = 10_000;

export class ProduceStreamConnection implements ProduceChannel {
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  private failed = false;
  private closedByUs = false;

  constructor(
    private readonly call: ProduceStreamCall,
    readonly address: string,
    private readonly env: ClientEnv,
  ) {
    call.on('data', (m: WireProduceStreamResponse) => this.onResponse(m));
    call.on('error', (e: ServiceError) => this.fail(this.closedByUs ? this.closedError() : errorFromStatus(e, address)));
    call.on('end', () => this.fail(new KeelError({ code: 'DISCONNECTED', message: `the produce stream to ${address} ended with requests unanswered`, address })));
  }

  get broken(): boolean {
    return this.failed;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  send(request: WireProduceRequest, timeoutMs: number): Promise<WireProduceResponse> {
    if (this.failed) return Promise.reject(new KeelError({ code: 'DISCONNECTED', message: `the produce stream to ${this.address} is broken`, address: this.address }));
    if (this.pending.size >= STREAM_PENDING_MAX) return Promise.reject(new KeelError({ code: 'BUFFER_FULL', message: `${STREAM_PENDING_MAX} requests already in flight to ${this.address}`, retriable: true, address: this.address }));
    const correlationId = this.nextCorrelationId++;
    return new Promise((resolve, reject) => {
      const timer = this.env.setTimer(() => {
        if (!this.pending.delete(correlationId)) return;
        reject(new KeelError({ code: 'DEADLINE_EXCEEDED', message: `no answer from ${this.address} within ${timeoutMs} ms`, address: this.address }));
      }, timeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer });
      this.call.write({ correlationId, request });
    });
  }

  close(): void {
    if (this.failed) return;
    this.closedByUs = true;
    this.fail(this.closedError());
    this.call.cancel();
  }

  private onResponse(m: WireProduceStreamResponse): void {
    const id = m.correlationId;
    const p = this.pending.get(id);
    // An answer after its timer fired (or to an id we never used): the request was already failed.
    if (p === undefined) return;
    this.pending.delete(id);
    this.env.clearTimer(p.timer);
    if (m.result === 'ok') p.resolve(m.ok);
    else if (m.result === 'error') p.reject(errorFromMessage(m.error, this.address));
    else p.reject(new KeelError({ code: 'INTERNAL', message: `${this.address} answered request ${id} with neither a result nor an error`, retriable: false, address: this.address }));
  }

  private fail(e: KeelError): void {
    this.failed = true;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      this.env.clearTimer(p.timer);
      p.reject(e);
    }
  }

  private closedError(): KeelError {
    return new KeelError({ code: 'CLOSED', message: `the produce stream to ${this.address} was closed`, retriable: false, address: this.address });
  }
}
