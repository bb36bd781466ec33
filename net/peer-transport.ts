// The Transport port over gRPC (DESIGN.md §7): one bidirectional keel.v1.Peer stream per peer pair
// (net/peer-link.ts), carrying encoded frames (net/peer-codec.ts). send() never throws and never
// blocks: frames are fire-and-forget, exactly what the port promises and what Raft expects of a network.
// Inbound bytes are decoded and validated here; garbage is counted and dropped, never fatal.
import * as grpc from '@grpc/grpc-js';
import { SILENT, type Frame, type Logger, type Transport } from '../broker/ports.ts';
import type { NodeId } from '../raft/types.ts';
import { splitFrame } from './frame-split.ts';
import { decodeFrame, encodeFrame, PEER_CODEC_LIMITS } from './peer-codec.ts';
import { PeerLink, type DropReason, type LinkHost, type PeerLinkLimits } from './peer-link.ts';
import { openPeerStream, PEER_FROM_HEADER, PEER_TO_HEADER, type PeerStream, type PeerStreamAcceptor } from './peer-service.ts';
import type { SendFlush } from './send-flush.ts';

export interface PeerTransportLimits extends PeerLinkLimits {
  /** Frames are split into parts of about this size (net/frame-split.ts). */
  readonly framePartBytesTarget: number;
  /** gRPC message size limit, both directions; an encoded frame above it is dropped as oversized. */
  readonly frameBytesMax: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
  /** Distinct peers this node keeps links to (inbound streams from more are refused). */
  readonly peersMax: number;
}

export const PEER_TRANSPORT_DEFAULTS: PeerTransportLimits = {
  sendQueueFramesMax: 4096,
  sendQueueBytesMax: 64 << 20,
  reconnectBackoffMsMin: 50,
  reconnectBackoffMsMax: 2_000,
  dialTimeoutMs: 3_000,
  inboundStreamsPerPeerMax: 4,
  framePartBytesTarget: 4 << 20,
  frameBytesMax: PEER_CODEC_LIMITS.frameBytesMax,
  keepaliveIntervalMs: 10_000,
  keepaliveTimeoutMs: 5_000,
  peersMax: 1024,
};

export interface PeerTransportStats {
  framesSent: number;
  framesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Frames dropped for any reason, in or out; `dropReasons` breaks it down. */
  dropped: number;
  dropReasons: Record<DropReason, number>;
  /** Inbound messages that failed decoding or validation. */
  decodeErrors: number;
  /** Dials after a stream to that peer failed or was lost. */
  reconnects: number;
}

export interface PeerTransportOptions {
  readonly nodeId: NodeId;
  /** Peer addresses (host:port). More can be added later with setPeerAddress. */
  readonly peers?: ReadonlyMap<NodeId, string>;
  readonly logger?: Logger;
  readonly limits?: Partial<PeerTransportLimits>;
  /** Backoff jitter source in [0, 1). Network timing is outside the deterministic core: Math.random. */
  readonly random?: () => number;
  readonly onFrame?: (frame: Frame) => void;
  /** Told of every frame written to a stream (the node's disk writes wait for those to leave). */
  readonly sendFlush?: SendFlush;
}

export class PeerTransport implements Transport, PeerStreamAcceptor {
  readonly self: NodeId;
  readonly limits: PeerTransportLimits;
  readonly stats: PeerTransportStats = {
    framesSent: 0, framesReceived: 0, bytesSent: 0, bytesReceived: 0, dropped: 0, decodeErrors: 0, reconnects: 0,
    dropReasons: { disconnected: 0, queueFull: 0, noRoute: 0, oversized: 0, misaddressed: 0, noHandler: 0 },
  };
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly addresses = new Map<NodeId, string>();
  private readonly clients = new Map<NodeId, grpc.Client>();
  private readonly links = new Map<NodeId, PeerLink>();
  private onFrame: ((frame: Frame) => void) | null;
  private closed = false;
  private readonly host: LinkHost;
  private readonly sendFlush: SendFlush | null;

  constructor(options: PeerTransportOptions) {
    this.self = options.nodeId;
    this.limits = { ...PEER_TRANSPORT_DEFAULTS, ...options.limits };
    this.logger = options.logger ?? SILENT;
    this.random = options.random ?? Math.random;
    this.onFrame = options.onFrame ?? null;
    this.sendFlush = options.sendFlush ?? null;
    for (const [id, address] of options.peers ?? []) this.addresses.set(id, address);
    this.host = {
      self: this.self,
      limits: this.limits,
      logger: this.logger,
      dial: (peer) => this.dial(peer),
      receive: (peer, bytes) => this.receive(peer, bytes),
      sent: (bytes) => {
        this.stats.framesSent++;
        this.stats.bytesSent += bytes;
      },
      dropped: (reason, frames) => this.drop(reason, frames),
      reconnected: () => this.stats.reconnects++,
      random: () => this.random(),
    };
  }

  /** Where inbound frames go (the node driver's receive). Frames arriving before this is set are dropped. */
  setFrameHandler(onFrame: (frame: Frame) => void): void {
    this.onFrame = onFrame;
  }

  setPeerAddress(peer: NodeId, address: string): void {
    if (this.addresses.get(peer) === address) return;
    this.addresses.set(peer, address);
    this.clients.get(peer)?.close();
    this.clients.delete(peer);
    this.links.get(peer)?.redial();
  }

  /** Peers with a usable stream right now. */
  connectedPeers(): NodeId[] {
    return [...this.links.values()].filter((l) => l.connected).map((l) => l.peer).sort((a, b) => a - b);
  }

  /** Streams open to `peer` (1 once a pair has converged; 2 briefly while both dialed). */
  streamCount(peer: NodeId): number {
    return this.links.get(peer)?.streamCount ?? 0;
  }

  send(to: NodeId, frame: Frame): void {
    if (this.closed || to === this.self) return this.drop('noRoute', 1);
    const link = this.links.get(to) ?? (this.addresses.has(to) ? this.link(to) : undefined);
    if (link === undefined) return this.drop('noRoute', 1);
    // Checked before encoding: a frame for a peer in backoff is dropped without costing a serialization.
    if (!link.accepting()) return this.drop('disconnected', 1);
    for (const part of splitFrame(frame, this.limits.framePartBytesTarget)) {
      const bytes = encodeFrame(part);
      if (bytes.byteLength > this.limits.frameBytesMax) {
        // Only a single message bigger than the limit gets here (an entry that should have been refused).
        this.logger.error('frame too large to send', { peer: to, bytes: bytes.byteLength, limit: this.limits.frameBytesMax });
        this.drop('oversized', 1);
        continue;
      }
      link.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      this.sendFlush?.noteSend();
    }
  }

  /** Takes a stream a peer dialed (keel.v1.Peer/Stream handler, see PeerServer). */
  acceptStream(call: PeerStream): void {
    const from = parseNodeId(call.metadata.get(PEER_FROM_HEADER)[0]);
    const to = parseNodeId(call.metadata.get(PEER_TO_HEADER)[0]);
    if (this.closed) return refuse(call, grpc.status.UNAVAILABLE, 'node is shutting down');
    if (from === null || from === this.self) return refuse(call, grpc.status.INVALID_ARGUMENT, `bad ${PEER_FROM_HEADER} header`);
    // A dial that reached the wrong node (stale address, ports swapped) must not be mistaken for a link.
    if (to !== this.self) return refuse(call, grpc.status.FAILED_PRECONDITION, `this is node ${this.self}, not ${String(to)}`);
    if (!this.links.has(from) && this.links.size >= this.limits.peersMax) return refuse(call, grpc.status.RESOURCE_EXHAUSTED, 'too many peers');
    call.sendMetadata(new grpc.Metadata()); // tells the dialer the stream is up
    const link = this.link(from);
    const gone = (): void => link.removeInbound(call);
    call.on('data', (bytes: Buffer) => this.receive(from, bytes));
    call.on('end', () => call.end()); // the peer half-closed: close our half, the stream is done
    call.on('error', gone);
    call.on('cancelled', gone);
    call.on('close', gone);
    link.addInbound(call);
  }

  /** Closes every stream and client. The grpc.Server is the caller's (it may host other services). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) link.close();
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private link(peer: NodeId): PeerLink {
    let link = this.links.get(peer);
    if (link === undefined) {
      link = new PeerLink(peer, this.host);
      this.links.set(peer, link);
    }
    return link;
  }

  private dial(peer: NodeId): grpc.ClientDuplexStream<Buffer, Buffer> | null {
    const address = this.addresses.get(peer);
    if (address === undefined || this.closed) return null;
    let client = this.clients.get(peer);
    if (client === undefined) {
      client = new grpc.Client(address, grpc.credentials.createInsecure(), this.channelOptions());
      this.clients.set(peer, client);
    }
    return openPeerStream(client, this.self, peer);
  }

  private channelOptions(): grpc.ChannelOptions {
    const l = this.limits;
    return {
      'grpc.max_send_message_length': l.frameBytesMax,
      'grpc.max_receive_message_length': l.frameBytesMax,
      'grpc.keepalive_time_ms': l.keepaliveIntervalMs,
      'grpc.keepalive_timeout_ms': l.keepaliveTimeoutMs,
      'grpc.keepalive_permit_without_calls': 1,
      // The channel's own reconnect backoff, kept within ours so a restarted peer is found promptly.
      'grpc.initial_reconnect_backoff_ms': l.reconnectBackoffMsMin,
      'grpc.max_reconnect_backoff_ms': l.reconnectBackoffMsMax,
      // Retries would buffer every frame of a stream for replay; Raft does its own retransmission.
      'grpc.enable_retries': 0,
      // One connection per transport: two nodes in one process (tests) must not share a socket.
      'grpc.use_local_subchannel_pool': 1,
    };
  }

  private receive(peer: NodeId, bytes: Buffer): void {
    this.stats.bytesReceived += bytes.byteLength;
    const r = decodeFrame(bytes);
    if (!r.ok) {
      this.stats.decodeErrors++;
      // Logged at 1, 2, 4, 8, ... errors: a peer spewing garbage must not flood the log.
      if ((this.stats.decodeErrors & (this.stats.decodeErrors - 1)) === 0) {
        this.logger.warn('dropped undecodable frame', { peer, error: r.error, decodeErrors: this.stats.decodeErrors });
      }
      return;
    }
    const frame = r.frame;
    // The stream is from `peer` to us: a frame saying otherwise is misrouted or forged.
    if (frame.to !== this.self || frame.from !== peer) return this.drop('misaddressed', 1);
    if (this.onFrame === null) return this.drop('noHandler', 1);
    this.stats.framesReceived++;
    try {
      this.onFrame(frame);
    } catch (err) {
      // A throw here is the core's (a failed assertion): it must crash the node, not be swallowed by
      // grpc-js's stream machinery. Rethrown outside it.
      process.nextTick(() => {
        throw err;
      });
    }
  }

  private drop(reason: DropReason, frames: number): void {
    this.stats.dropped += frames;
    this.stats.dropReasons[reason] += frames;
  }
}

function parseNodeId(v: grpc.MetadataValue | undefined): NodeId | null {
  if (typeof v !== 'string' || !/^[1-9][0-9]{0,15}$/.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? (n as NodeId) : null;
}

function refuse(call: PeerStream, code: grpc.status, details: string): void {
  // grpc-js ends a server stream with this status when the stream emits an error.
  call.emit('error', Object.assign(new Error(details), { code, details }));
}
