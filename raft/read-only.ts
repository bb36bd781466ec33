// ReadIndex bookkeeping at the leader (Raft thesis §6.4; etcd's read_only.go). A read request records the
// commit index at arrival; a heartbeat round tagged with its context confirms the leader still leads.
// Once a quorum acknowledged that round, every request queued up to it may be answered.
import type { Index, NodeId } from './types.ts';

export interface ReadRequest {
  /** Who asked: this node (served through Ready.readStates) or a follower (answered with readIndexResp). */
  readonly from: NodeId;
  readonly context: string;
}

interface Pending {
  readonly req: ReadRequest;
  readonly index: Index;
  readonly acks: Map<NodeId, boolean>;
}

export class ReadOnlyQueue {
  private readonly pending = new Map<string, Pending>();
  /** Contexts in arrival order. Invariant: same keys as `pending`. */
  private queue: string[] = [];

  constructor(
    /** Bound on queued requests; beyond it new requests are refused (every queue has a limit). */
    readonly requestsMax: number,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  /** Queues a request at commit index `index`. Returns false if full or the context is already queued. */
  add(index: Index, req: ReadRequest): boolean {
    if (this.pending.has(req.context) || this.queue.length >= this.requestsMax) return false;
    this.pending.set(req.context, { req, index, acks: new Map() });
    this.queue.push(req.context);
    return true;
  }

  /** Records that `id` acknowledged the round tagged `context`; returns the acks so far, or undefined. */
  recvAck(id: NodeId, context: string): ReadonlyMap<NodeId, boolean> | undefined {
    const p = this.pending.get(context);
    if (p === undefined) return undefined;
    p.acks.set(id, true);
    return p.acks;
  }

  /** Dequeues every request up to and including `context`, oldest first. */
  advance(context: string): { req: ReadRequest; index: Index }[] {
    const at = this.queue.indexOf(context);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: { req: ReadRequest; index: Index }[] = [];
    for (const ctx of done) {
      const p = this.pending.get(ctx);
      this.pending.delete(ctx);
      if (p !== undefined) out.push({ req: p.req, index: p.index });
    }
    return out;
  }

  lastContext(): string | undefined {
    return this.queue[this.queue.length - 1];
  }

  /** Drops every pending request (on losing leadership); returns them so the asker can be told. */
  clear(): ReadRequest[] {
    const reqs = this.queue.map((ctx) => (this.pending.get(ctx) as Pending).req);
    this.pending.clear();
    this.queue = [];
    return reqs;
  }
}
