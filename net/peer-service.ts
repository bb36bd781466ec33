// The keel.v1.Peer gRPC service: its definition (read from peer.proto) and the part that registers it
// on a node's grpc.Server. Messages cross grpc-js as raw bytes (identity serializers): decoding happens
// in net/peer-codec.ts where a malformed frame is an error value that the transport counts, instead
// of a deserializer exception that grpc-js would turn into a torn-down stream.
import * as grpc from '@grpc/grpc-js';
import type { GrpcService } from './grpc-server.ts';
import { PeerService } from './peer-schema.ts';

/** Call metadata naming the caller and the node it means to reach (a misrouted dial is refused). */
export const PEER_FROM_HEADER = 'keel-from';
export const PEER_TO_HEADER = 'keel-to';

const stream = PeerService.methods['Stream'];
if (stream === undefined || stream.requestStream !== true || stream.responseStream !== true) {
  throw new Error('peer.proto: keel.v1.Peer.Stream must be a bidirectional stream');
}

/** '/keel.v1.Peer/Stream': the package version is part of the path, so v1 and v2 nodes never cross-talk. */
export const PEER_STREAM_PATH = `/${PeerService.fullName.replace(/^\./, '')}/${stream.name}`;

const identity = (b: Buffer): Buffer => b;

export const PEER_SERVICE_DEFINITION: grpc.ServiceDefinition = {
  Stream: {
    path: PEER_STREAM_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export type PeerStream = grpc.ServerDuplexStream<Buffer, Buffer>;

/** Whoever takes inbound peer streams: the node's PeerTransport. */
export interface PeerStreamAcceptor {
  acceptStream(call: PeerStream): void;
}

/** Registers keel.v1.Peer on a server that may host other services too (the client API). */
export class PeerServer implements GrpcService {
  constructor(private readonly acceptor: PeerStreamAcceptor) {}

  register(server: grpc.Server): void {
    server.addService(PEER_SERVICE_DEFINITION, { Stream: (call: PeerStream) => this.acceptor.acceptStream(call) });
  }
}

/** Opens a peer stream on `client` (used by the transport to dial, and by tests to speak raw bytes). */
export function openPeerStream(client: grpc.Client, from: number, to: number): grpc.ClientDuplexStream<Buffer, Buffer> {
  const md = new grpc.Metadata();
  md.set(PEER_FROM_HEADER, String(from));
  md.set(PEER_TO_HEADER, String(to));
  return client.makeBidiStreamRequest<Buffer, Buffer>(PEER_STREAM_PATH, identity, identity, md);
}
