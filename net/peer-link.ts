// The connection to one peer: the stream(s) to it, the bounded send queue and the redial backoff.
//
// One bidirectional stream per peer pair. Either side dials when it has something to send and no stream
// to that peer, and either side sends on whatever stream exists, dialed or accepted. When both dialed at
// once, the stream dialed by the lower id wins: the higher-id side closes its own as soon as it accepts
// the lower's, and the lower-id side prefers its own meanwhile. Both converge on one stream.
//
// Frames are dropped, never held, while there is no stream (in backoff, or no address known): Raft
// retransmits whatever matters (appends on the next heartbeat round, votes on the next election), so a
// stale backlog replayed after a reconnect would only be noise. While a dial is in progress, or while the
// stream pushes back, frames wait in a queue bounded in frames and bytes; past that they are dropped too.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../broker/ports.ts';
import type { NodeId } from '../raft/types.ts';

type Stream = grpc.ClientDuplexStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>;

export interface PeerLinkLimits {
  readonly sendQueueFramesMax: number;
  readonly sendQueueBytesMax: number;
  readonly reconnectBackoffMsMin: number;
  readonly reconnectBackoffMsMax: number;
  /** A dial not answered within this long is abandoned (and counts as a failure for the backoff). */
  readonly dialTimeoutMs: number;
  /**
   * Streams a peer may hold open to us at once. A restarted peer dials again before the old stream's
   * death is noticed (keepalive), so a few can coexist briefly; past this the oldest is closed.
   */
  readonly inboundStreamsPerPeerMax: number;
}

export type DropReason = 'disconnected' | 'queueFull' | 'noRoute' | 'oversized' | 'misaddressed' | 'noHandler';

/** What a link needs from its transport. */
export interface LinkHost {
  readonly self: NodeId;
  readonly limits: PeerLinkLimits;
  readonly logger: Logger;
  /** A new stream to `peer`, or null when its address is unknown. */
  dial(peer: NodeId): grpc.ClientDuplexStream<Buffer, Buffer> | null;
  receive(peer: NodeId, bytes: Buffer): void;
  sent(bytes: number): void;
  dropped(reason: DropReason, frames: number): void;
  reconnected(): void;
  random(): number;
}

interface Outbound {
  readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  /** The server answered with its headers: the stream is up. */
  ready: boolean;
  /** We cancelled it on purpose (duplicate stream, shutdown): not a failure, no backoff. */
  closedByUs: boolean;
  timer: NodeJS.Timeout | null;
}

export class PeerLink {
  private out: Outbound | null = null;
  /** Streams the peer dialed, oldest first. */
  private readonly inbound: Stream[] = [];
  private queue: Buffer[] = [];
  private queueBytes = 0;
  /** The stream whose write() returned false; nothing more is written until it drains. */
  private blockedOn: Stream | null = null;
  /** Current backoff step; 0 after a success (or before any failure). */
  private backoffMs = 0;
  private dialNotBeforeMs = 0;
  /** A stream to this peer failed or was lost since the last one came up: the next dial is a reconnect. */
  private lost = false;
  /** Failed dials since the last stream came up. */
  private dialFailures = 0;
  private closed = false;

  constructor(
    readonly peer: NodeId,
    private readonly host: LinkHost,
  ) {}

  get connected(): boolean {
    return this.writer() !== null;
  }

  get streamCount(): number {
    return this.inbound.length + (this.out !== null && !this.out.closedByUs ? 1 : 0);
  }

  /** Whether frames can be taken now (a stream exists or a dial just started); dials if it may. */
  accepting(): boolean {
    if (this.closed) return false;
    if (!this.hasStream()) this.maybeDial();
    return this.hasStream();
  }

  send(bytes: Buffer): void {
    if (!this.accepting()) return this.host.dropped('disconnected', 1);
    const limits = this.host.limits;
    if (this.queue.length >= limits.sendQueueFramesMax || this.queueBytes + bytes.byteLength > limits.sendQueueBytesMax) {
      return this.host.dropped('queueFull', 1);
    }
    this.queue.push(bytes);
    this.queueBytes += bytes.byteLength;
    this.flush();
  }

  addInbound(call: Stream): void {
    if (this.closed) return void call.end();
    this.inbound.push(call);
    if (this.inbound.length > this.host.limits.inboundStreamsPerPeerMax) this.inbound[0]?.end();
    // The lower id's stream wins: if we are the higher id, our own dial is the duplicate.
    if (this.host.self > this.peer && this.out !== null) this.closeOut(true);
    this.flush();
  }

  removeInbound(call: Stream): void {
    const i = this.inbound.indexOf(call);
    if (i < 0) return;
    this.inbound.splice(i, 1);
    this.streamGone(call);
  }

  /** The peer's address changed: the current dial (if any) goes to the old one. */
  redial(): void {
    if (this.out !== null) this.closeOut(false);
    this.backoffMs = 0;
    this.dialNotBeforeMs = 0;
  }

  close(): void {
    this.closed = true;
    if (this.out !== null) this.closeOut(false);
    for (const call of [...this.inbound]) call.end();
    this.dropQueue();
  }

  private hasStream(): boolean {
    return (this.out !== null && !this.out.closedByUs) || this.inbound.length > 0;
  }

  /** Where frames go now: the lower id's stream when there are two, else whichever is up. */
  private writer(): Stream | null {
    const out = this.out !== null && this.out.ready && !this.out.closedByUs ? this.out.call : null;
    const inb = this.inbound[this.inbound.length - 1] ?? null;
    if (out !== null && inb !== null) return this.host.self < this.peer ? out : inb;
    return out ?? inb;
  }

  private flush(): void {
    if (this.blockedOn !== null) return;
    const w = this.writer();
    if (w === null) return;
    let i = 0;
    while (i < this.queue.length) {
      const bytes = this.queue[i++] as Buffer;
      this.queueBytes -= bytes.byteLength;
      this.host.sent(bytes.byteLength);
      if (!w.write(bytes)) {
        this.blockedOn = w;
        w.once('drain', () => {
          if (this.blockedOn !== w) return;
          this.blockedOn = null;
          this.flush();
        });
        break;
      }
    }
    this.queue = i === this.queue.length ? [] : this.queue.slice(i);
  }

  private dropQueue(): void {
    if (this.queue.length > 0) this.host.dropped('disconnected', this.queue.length);
    this.queue = [];
    this.queueBytes = 0;
  }

  /** A stream ended: move on to another one, or drop what was waiting. */
  private streamGone(s: Stream): void {
    if (this.blockedOn === s) this.blockedOn = null;
    if (this.hasStream()) this.flush();
    else this.dropQueue();
  }

  private maybeDial(): void {
    if (this.closed || this.hasStream() || performance.now() < this.dialNotBeforeMs) return;
    const call = this.host.dial(this.peer);
    if (call === null) return;
    if (this.lost) this.host.reconnected();
    const o: Outbound = { call, ready: false, closedByUs: false, timer: null };
    this.out = o;
    o.timer = setTimeout(() => {
      o.timer = null;
      if (o.ready || o.closedByUs) return;
      this.host.logger.debug('peer dial timed out', { peer: this.peer });
      call.cancel(); // the 'status' event that follows counts it as a failure
    }, this.host.limits.dialTimeoutMs);
    o.timer.unref();
    call.on('metadata', () => this.outReady(o));
    call.on('data', (bytes: Buffer) => this.host.receive(this.peer, bytes));
    // Errors also arrive as the 'status' event; without a listener an 'error' event would be thrown.
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => this.outClosed(o, status));
  }

  private outReady(o: Outbound): void {
    if (this.out !== o || o.closedByUs) return;
    o.ready = true;
    if (o.timer !== null) clearTimeout(o.timer);
    o.timer = null;
    this.backoffMs = 0;
    this.dialFailures = 0;
    if (this.lost) this.host.logger.info('peer stream re-established', { peer: this.peer });
    this.lost = false;
    this.flush();
  }

  private outClosed(o: Outbound, status: grpc.StatusObject): void {
    if (o.timer !== null) clearTimeout(o.timer);
    o.timer = null;
    // A stream we had already replaced (cancelled, then redialed) only needs to let go of the writer.
    if (this.out === o) {
      this.out = null;
      if (!o.closedByUs) this.failed(o.ready, status);
    }
    this.streamGone(o.call);
  }

  private failed(wasUp: boolean, status: grpc.StatusObject): void {
    // Exponential backoff with jitter in [half, full] of the step: bounded, and many nodes that lost
    // the same peer do not redial it in lockstep.
    const limits = this.host.limits;
    this.backoffMs = this.backoffMs === 0 ? limits.reconnectBackoffMsMin : Math.min(this.backoffMs * 2, limits.reconnectBackoffMsMax);
    this.dialNotBeforeMs = performance.now() + this.backoffMs * (0.5 + 0.5 * this.host.random());
    this.lost = true;
    if (wasUp) return this.host.logger.warn('peer stream lost', { peer: this.peer, code: status.code, details: status.details });
    this.dialFailures++;
    // Warned at 1, 2, 4, 8, ... failures: a peer that is down (or an address that reaches the wrong
    // node) stays visible without a line every backoff period.
    const fields = { peer: this.peer, code: status.code, details: status.details, failures: this.dialFailures, backoffMs: this.backoffMs };
    if ((this.dialFailures & (this.dialFailures - 1)) === 0) this.host.logger.warn('cannot reach peer', fields);
    else this.host.logger.debug('cannot reach peer', fields);
  }

  /**
   * Stops using our dialed stream. Gracefully (half-close) for a duplicate, so frames already written on
   * it still arrive; abruptly (cancel) on shutdown.
   */
  private closeOut(graceful: boolean): void {
    const o = this.out;
    if (o === null || o.closedByUs) return;
    o.closedByUs = true;
    if (graceful) o.call.end();
    else o.call.cancel();
  }
}
