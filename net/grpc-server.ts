// A node runs ONE gRPC server (DESIGN.md §7) hosting several services: the peer stream now, the client
// API later. Each service is a GrpcService that registers itself; this file owns the server-wide
// settings (message size limits, keepalive) so that every service gets the same ones.
import type { Server as NetServer, Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { PEER_CODEC_LIMITS } from './peer-codec.ts';

export interface GrpcService {
  register(server: grpc.Server): void;
}

export interface GrpcServerLimits {
  readonly messageBytesMax: number;
  /** How often the server pings an idle connection, and how long it waits for the answer. */
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
}

export const GRPC_SERVER_DEFAULTS: GrpcServerLimits = {
  messageBytesMax: PEER_CODEC_LIMITS.frameBytesMax,
  keepaliveIntervalMs: 10_000,
  keepaliveTimeoutMs: 5_000,
};

export function grpcServerOptions(limits: GrpcServerLimits = GRPC_SERVER_DEFAULTS): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': limits.messageBytesMax,
    'grpc.max_send_message_length': limits.messageBytesMax,
    // Pings find half-open connections (a peer that vanished without a FIN) on long-lived streams.
    'grpc.keepalive_time_ms': limits.keepaliveIntervalMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
    'grpc.keepalive_permit_without_calls': 1,
  };
}

export type StartResult =
  | { readonly ok: true; readonly server: grpc.Server; readonly port: number }
  | { readonly ok: false; readonly error: string };

/**
 * Creates a server, registers every service and binds `address` (host:port; port 0 picks a free one).
 * Insecure credentials: nodes talk over a trusted network (TLS is a later addition).
 */
export function startGrpcServer(
  address: string,
  services: readonly GrpcService[],
  limits: GrpcServerLimits = GRPC_SERVER_DEFAULTS,
): Promise<StartResult> {
  const server = new grpc.Server(grpcServerOptions(limits));
  for (const s of services) s.register(server);
  return new Promise((resolve) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => {
      if (err !== null) {
        server.forceShutdown();
        resolve({ ok: false, error: `cannot listen on ${address}: ${err.message}` });
        return;
      }
      disableNagleOnAccept(server);
      resolve({ ok: true, server, port });
    });
  });
}

/**
 * grpc-js sets TCP_NODELAY on the sockets it dials but not on the ones its server accepts, so a small
 * message written by the server (a peer's append response, a produce answer) waits for the client's
 * delayed ACK: about 40 ms per round trip on Linux. The http2 servers are internal to grpc-js, hence the
 * cast; if a release renames the field, nothing breaks but the latency comes back (the benchmark shows it).
 */
function disableNagleOnAccept(server: grpc.Server): void {
  const internals = server as unknown as { http2Servers?: Map<NetServer, unknown> };
  for (const h of internals.http2Servers?.keys() ?? []) h.on('connection', (socket: Socket) => socket.setNoDelay(true));
}

/** Stops accepting calls, lets running ones finish for up to `graceMs`, then cuts the rest. */
export function stopGrpcServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
