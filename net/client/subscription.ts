// A tail of one partition as an async iterator: records as they are committed, from a start offset, over
// the Subscribe stream of the partition's leader. When the stream says NOT_LEADER, breaks or ends, the
// subscription opens a new one at the (new) leader from the offset after the last record it received, so
// the caller sees every offset once and in order. It stops when the caller stops (break / return()),
// or with an error that retrying cannot fix (OFFSET_OUT_OF_RANGE, UNKNOWN_TOPIC), or after `retriesMax`
// failed reconnects in a row without a record in between. Buffering is bounded: past
// `bufferRecordsMax` undelivered records the stream is paused (HTTP/2 flow control pushes back).
import { backoffDelayMs, type BackoffPolicy } from './backoff.ts';
import type { ClientEnv, TimerHandle } from './env.ts';
import { errorFromMessage, isKeelError, KeelError } from './errors.ts';
import type { Reaction } from './leader-routing.ts';
import { fromWireRecord, type ConsumedRecord } from './records.ts';
import { IMMEDIATE_RETRIES_MAX } from './retry.ts';
import type { WireSubscribeRequest, WireSubscribeResponse } from './wire.ts';

export interface SubscribeOptions {
  /** Per batch the server sends (default 1 MiB). */
  readonly maxBytes?: number;
  /** Undelivered records held before the stream is paused (default 10,000). */
  readonly bufferRecordsMax?: number;
}

/** An open Subscribe call, as the subscription drives it. */
export interface StreamControl {
  cancel(): void;
  pause(): void;
  resume(): void;
}

export interface StreamHandlers {
  data(m: WireSubscribeResponse): void;
  /** The call failed (status already turned into a KeelError). */
  error(e: KeelError): void;
  /** The server closed the stream. */
  end(): void;
}

/** What a subscription needs from its client (a fake in tests). */
export interface SubscriptionHost {
  readonly env: ClientEnv;
  readonly backoff: BackoffPolicy;
  readonly retriesMax: number;
  leaderAddress(topic: string, partition: number, avoid?: string): Promise<string>;
  react(topic: string, partition: number, address: string | undefined, e: KeelError): Reaction;
  open(address: string, request: WireSubscribeRequest, handlers: StreamHandlers): StreamControl;
  subscriptionClosed?(s: Subscription): void;
}

interface Waiter {
  readonly resolve: (r: IteratorResult<ConsumedRecord>) => void;
  readonly reject: (e: unknown) => void;
}

const DEFAULT_MAX_BYTES = 1 << 20;
const DEFAULT_BUFFER_RECORDS_MAX = 10_000;

export class Subscription implements AsyncIterableIterator<ConsumedRecord> {
  /** Received, not yet handed to the caller; offsets strictly increasing. */
  private buffer: ConsumedRecord[] = [];
  private bufferHead = 0;
  /** Offset of the next record to receive. Invariant: every buffered offset < nextOffset. */
  private nextOffset: number;
  private stream: StreamControl | null = null;
  private paused = false;
  /** Bumped whenever a stream is abandoned: events of older streams are ignored. */
  private generation = 0;
  private readonly waiters: Waiter[] = [];
  private failure: KeelError | null = null;
  private finished = false;
  private started = false;
  private failuresInARow = 0;
  private immediateInARow = 0;
  private timer: TimerHandle | null = null;
  private readonly maxBytes: number;
  private readonly bufferRecordsMax: number;
  /** Streams opened so far (1 + reconnects), for tests and diagnostics. */
  streamsOpened = 0;

  constructor(
    private readonly host: SubscriptionHost,
    readonly topic: string,
    readonly partition: number,
    offset: number,
    options: SubscribeOptions = {},
  ) {
    this.nextOffset = offset;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.bufferRecordsMax = options.bufferRecordsMax ?? DEFAULT_BUFFER_RECORDS_MAX;
  }

  /** The offset after the last record received (where a reconnect resumes). */
  get position(): number {
    return this.nextOffset;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ConsumedRecord>> {
    if (!this.started && !this.finished) {
      this.started = true;
      this.connect(undefined);
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.deliver();
    });
  }

  /** Stops the subscription (break in for-await calls this): the stream is cancelled at once. */
  return(): Promise<IteratorResult<ConsumedRecord>> {
    this.finish();
    return Promise.resolve({ done: true, value: undefined });
  }

  private connect(avoid: string | undefined): void {
    this.timer = null;
    const gen = ++this.generation;
    this.host.leaderAddress(this.topic, this.partition, avoid).then((address) => {
      if (gen !== this.generation || this.finished) return;
      this.streamsOpened++;
      this.paused = false;
      const request: WireSubscribeRequest = { topic: this.topic, partition: this.partition, offset: this.nextOffset, maxBytes: this.maxBytes };
      this.stream = this.host.open(address, request, {
        data: (m) => {
          if (gen === this.generation) this.onMessage(m, address);
        },
        error: (e) => {
          if (gen === this.generation) this.broken(e, address);
        },
        end: () => {
          if (gen === this.generation) this.broken(new KeelError({ code: 'DISCONNECTED', message: `the subscription stream from ${address} ended`, address }), address);
        },
      });
      this.applyBackpressure();
    }, (e: unknown) => {
      if (gen !== this.generation || this.finished) return;
      this.broken(isKeelError(e) ? e : new KeelError({ code: 'INTERNAL', message: e instanceof Error ? e.message : String(e), retriable: false }), undefined);
    });
  }

  private onMessage(m: WireSubscribeResponse, address: string): void {
    if (m.result === 'error') {
      this.broken(errorFromMessage(m.error, address), address);
      return;
    }
    if (m.result !== 'batch') return;
    this.failuresInARow = 0;
    this.immediateInARow = 0;
    for (const f of m.batch.records) {
      // A resumed stream may repeat what we already have.
      if (f.offset < this.nextOffset) continue;
      this.buffer.push(fromWireRecord(f));
      this.nextOffset = f.offset + 1;
    }
    this.applyBackpressure();
    this.deliver();
  }

  /** The stream failed: reconnect (at once after a redirect, else with backoff) or stop with the error. */
  private broken(e: KeelError, address: string | undefined): void {
    this.dropStream();
    if (this.finished) return;
    const r = this.host.react(this.topic, this.partition, address, e);
    const retries = this.failuresInARow++;
    if (r.verdict === 'fail' || retries >= this.host.retriesMax) {
      this.failure = e;
      this.deliver();
      return;
    }
    const immediate = r.verdict === 'retryNow' && this.immediateInARow < IMMEDIATE_RETRIES_MAX;
    this.immediateInARow = immediate ? this.immediateInARow + 1 : 0;
    const delayMs = immediate ? 0 : backoffDelayMs(retries, this.host.backoff, () => this.host.env.random());
    this.timer = this.host.env.setTimer(() => this.connect(r.avoid), delayMs);
  }

  private deliver(): void {
    while (this.waiters.length > 0) {
      if (this.bufferHead < this.buffer.length) {
        const value = this.buffer[this.bufferHead++] as ConsumedRecord;
        if (this.bufferHead > 1024 && this.bufferHead * 2 > this.buffer.length) {
          this.buffer = this.buffer.slice(this.bufferHead);
          this.bufferHead = 0;
        }
        (this.waiters.shift() as Waiter).resolve({ done: false, value });
        continue;
      }
      if (this.failure !== null) {
        const e = this.failure;
        this.failure = null;
        (this.waiters.shift() as Waiter).reject(e);
        this.finish();
        continue;
      }
      if (this.finished) {
        (this.waiters.shift() as Waiter).resolve({ done: true, value: undefined });
        continue;
      }
      break;
    }
    this.applyBackpressure();
  }

  private applyBackpressure(): void {
    if (this.stream === null) return;
    const held = this.buffer.length - this.bufferHead;
    if (!this.paused && held >= this.bufferRecordsMax) {
      this.paused = true;
      this.stream.pause();
    } else if (this.paused && held < this.bufferRecordsMax / 2) {
      this.paused = false;
      this.stream.resume();
    }
  }

  private dropStream(): void {
    this.generation++;
    const s = this.stream;
    this.stream = null;
    s?.cancel();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.dropStream();
    if (this.timer !== null) this.host.env.clearTimer(this.timer);
    this.timer = null;
    // Undelivered records are dropped: the caller asked to stop.
    this.buffer = [];
    this.bufferHead = 0;
    this.host.subscriptionClosed?.(this);
    this.deliver();
  }
}
