// One gRPC channel per broker address, created on first use and reused by every call and stream to that
// address until the client closes. The client class comes from the shared service definition
// (net/client-schema.ts), so paths and encodings are the server's.
import * as grpc from '@grpc/grpc-js';
import { KEEL_SERVICE_DEFINITION } from '../client-schema.ts';

const KeelGrpcClient = grpc.makeGenericClientConstructor(KEEL_SERVICE_DEFINITION, 'Keel');

export interface ChannelLimits {
  /** Largest message either way (a fetch answer can carry up to 64 MiB of records). */
  readonly messageBytesMax: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
  /** grpc-js's own reconnect backoff (its default starts at 1 s, too slow to follow a restarted node). */
  readonly reconnectBackoffMsMin: number;
  readonly reconnectBackoffMsMax: number;
  /** Distinct addresses a client may hold channels to (a bound on what redirect hints can make us open). */
  readonly channelsMax: number;
}

export const CHANNEL_DEFAULTS: ChannelLimits = {
  messageBytesMax: (64 << 20) + (1 << 20),
  keepaliveIntervalMs: 10_000,
  keepaliveTimeoutMs: 5_000,
  reconnectBackoffMsMin: 100,
  reconnectBackoffMsMax: 2_000,
  channelsMax: 256,
};

export class ChannelPool {
  private readonly clients = new Map<string, grpc.Client>();
  private closed = false;

  constructor(private readonly limits: ChannelLimits = CHANNEL_DEFAULTS) {}

  /** The channel to `address` (host:port), opened on first use. */
  get(address: string): grpc.Client {
    if (this.closed) throw new Error('channel pool is closed');
    let c = this.clients.get(address);
    if (c === undefined) {
      if (this.clients.size >= this.limits.channelsMax) this.evictOne();
      c = new KeelGrpcClient(address, grpc.credentials.createInsecure(), {
        'grpc.max_receive_message_length': this.limits.messageBytesMax,
        'grpc.max_send_message_length': this.limits.messageBytesMax,
        'grpc.keepalive_time_ms': this.limits.keepaliveIntervalMs,
        'grpc.keepalive_timeout_ms': this.limits.keepaliveTimeoutMs,
        'grpc.keepalive_permit_without_calls': 1,
        'grpc.initial_reconnect_backoff_ms': this.limits.reconnectBackoffMsMin,
        'grpc.max_reconnect_backoff_ms': this.limits.reconnectBackoffMsMax,
        // The client retries by itself (retry.ts), by the request's own rules; grpc-js's layer would only
        // hold a copy of every message a produce stream sends.
        'grpc.enable_retries': 0,
      });
      this.clients.set(address, c);
    }
    return c;
  }

  get size(): number {
    return this.clients.size;
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  /** Closes the oldest channel (Map order is insertion order). */
  private evictOne(): void {
    const first = this.clients.entries().next();
    if (first.done === true) return;
    first.value[1].close();
    this.clients.delete(first.value[0]);
  }
}
