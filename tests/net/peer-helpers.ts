// Shared by the transport tests: nodes (transport + gRPC server) on 127.0.0.1 ephemeral ports, frames,
// and polling for asynchronous outcomes.
import type * as grpc from '@grpc/grpc-js';
import { SILENT, type Frame, type Logger } from '../../broker/ports.ts';
import { index, nodeId, term, type Message, type NodeId } from '../../raft/types.ts';
import { startGrpcServer } from '../../net/grpc-server.ts';
import { PeerServer } from '../../net/peer-service.ts';
import { PeerTransport, type PeerTransportLimits } from '../../net/peer-transport.ts';

export interface TestNode {
  readonly id: NodeId;
  readonly transport: PeerTransport;
  readonly server: grpc.Server;
  readonly port: number;
  readonly received: Frame[];
}

export const id = nodeId;

/** Starts a node; `port` 0 picks a free port. Peers are added afterwards with setPeerAddress. */
export async function startNode(n: number, port = 0, limits: Partial<PeerTransportLimits> = {}, logger: Logger = SILENT): Promise<TestNode> {
  const received: Frame[] = [];
  const transport = new PeerTransport({
    nodeId: id(n),
    logger,
    limits: { reconnectBackoffMsMin: 20, reconnectBackoffMsMax: 200, dialTimeoutMs: 1_000, ...limits },
    onFrame: (f) => received.push(f),
  });
  const started = await startGrpcServer(`127.0.0.1:${port}`, [new PeerServer(transport)]);
  if (!started.ok) throw new Error(started.error);
  return { id: id(n), transport, server: started.server, port: started.port, received };
}

/** Every node learns every other node's address. */
export function connectAll(nodes: readonly TestNode[]): void {
  for (const a of nodes) for (const b of nodes) if (a !== b) a.transport.setPeerAddress(b.id, `127.0.0.1:${b.port}`);
}

export function stopNode(node: TestNode): void {
  node.transport.close();
  node.server.forceShutdown();
}

export function heartbeat(from: number, to: number, group: number, commit = 0): Frame {
  const msg: Message = { type: 'heartbeat', from: id(from), to: id(to), term: term(1), commit: index(commit), context: '' };
  return { from: id(from), to: id(to), fromIncarnation: 0, messages: [{ group, msg }], rpcs: [] };
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Keeps calling `tick` every `everyMs` until `cond` holds (a Raft-like sender that retransmits). */
export async function keepSendingUntil(tick: () => void, cond: () => boolean, what: string, everyMs = 20, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    tick();
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
