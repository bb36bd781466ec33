// ReadIndex bookkeeping at the leader (Raft thesis §6.4; etcd's read_only.go). A read request records the
// commit index at arrival; a heartbeat round confirms the leader still leads. Once a quorum acknowledged
// that round, every request queued up to it may be answered.
//
// Rounds are tagged with a token the leader makes (its term and a sequence number), never with the
// caller's context: a context can come again (a retried read; a node that restarted and counts its
// contexts from 1 again), and a delayed acknowledgement of an earlier round under the same context would
// then confirm the new one without asking anyone, serving a deposed leader's stale read (PITFALLS 14,
// etcd issue 20418). A token is never reused, so a late acknowledgement finds no round, or its own.
import type { Index, NodeId, Term } from './types.ts';

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
  /** Requests by round token. */
  private readonly pending = new Map<string, Pending>();
  /** Round tokens in arrival order. Invariant: same keys as `pending`. */
  private queue: string[] = [];
  /** Rounds started by this queue; never reset, so no token repeats within a term. */
  private rounds = 0;

  constructor(
    /** Bound on queued requests; beyond it new requests are refused (every queue has a limit). */
    readonly requestsMax: number,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  /**
   * Queues a request at commit index `index` and starts its round; returns the round's token (what the
   * heartbeats carry), or undefined if the queue is full or the context is already queued.
   */
  add(term: Term, index: Index, req: ReadRequest): string | undefined {
    if (this.queue.length >= this.requestsMax) return undefined;
    // A context queued twice could not tell its two answers apart.
    for (const p of this.pending.values()) if (p.req.context === req.context) return undefined;
    const round = `${term}.${++this.rounds}`;
    this.pending.set(round, { req, index, acks: new Map() });
    this.queue.push(round);
    return round;
  }

  /** Records that `id` acknowledged the round `round`; returns the acks so far, or undefined. */
  recvAck(id: NodeId, round: string): ReadonlyMap<NodeId, boolean> | undefined {
    const p = this.pending.get(round);
    if (p === undefined) return undefined;
    p.acks.set(id, true);
    return p.acks;
  }

  /** Dequeues every request up to and including round `round`, oldest first. */
  advance(round: string): { req: ReadRequest; index: Index }[] {
    const at = this.queue.indexOf(round);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: { req: ReadRequest; index: Index }[] = [];
    for (const token of done) {
      const p = this.pending.get(token) as Pending;
      this.pending.delete(token);
      out.push({ req: p.req, index: p.index });
    }
    return out;
  }

  /** The newest round's token: periodic heartbeats carry it, so a round whose messages were lost is asked again. */
  lastRound(): string | undefined {
    return this.queue[this.queue.length - 1];
  }

  /** Drops every pending request (on losing leadership); returns them so the asker can be told. */
  clear(): ReadRequest[] {
    const reqs = this.queue.map((token) => (this.pending.get(token) as Pending).req);
    this.pending.clear();
    this.queue = [];
    return reqs;
  }
}
