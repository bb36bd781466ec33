// The node driver: runs every Raft group of the node in turns (TigerBeetle's "run at your own pace").
// A turn steps every group, then issues ONE storage batch with one sync for the whole node (group
// commit), and ONE frame per peer carrying every group's messages (idle groups' heartbeats travel
// together, since all groups tick at once). One storage write is in flight at a time; what arrives
// meanwhile joins the next batch, so batches grow with load.
import { assert } from '../raft/assert.ts';
import type { Message, NodeId } from '../raft/types.ts';
import type { Frame, GroupId, GroupMessage, NodeRpc, Ports, StorageError, TimerHandle, WriteOp } from './ports.ts';
import { PeerLives } from './disk-identity.ts';
import type { Replica, TurnBatch } from './replica.ts';

export interface DriverStats {
  turns: number;
  writes: number;
  writeOps: number;
  framesSent: number;
  messagesSent: number;
  /** Most storage writes issued by any single turn (group commit keeps it at 1). */
  writesPerTurnMax: number;
}

type RpcHandler = (from: NodeId, body: unknown, reply: (body: unknown) => void) => void;

interface Batch extends TurnBatch {
  readonly ops: WriteOp[];
  readonly lazyOps: WriteOp[];
  readonly completions: (() => void)[];
}

export class Driver {
  readonly replicas = new Map<GroupId, Replica>();
  readonly stats: DriverStats = { turns: 0, writes: 0, writeOps: 0, framesSent: 0, messagesSent: 0, writesPerTurnMax: 0 };
  /** What each peer gets in the next frame; boxes stay, their arrays are handed over at each flush. */
  private readonly outbox = new Map<NodeId, { messages: GroupMessage[]; rpcs: NodeRpc[] }>();
  /** The outbox's peers in ascending order (frames go out in this order, the same on every run). */
  private readonly outboxPeers: NodeId[] = [];
  private outboxEmpty = true;
  /** Hosted replicas in ascending group order (the turn's order); null after a change. */
  private turnOrder: Replica[] | null = null;
  private readonly runTurnFn = (): void => this.runTurn();
  private readonly sendFn = (group: GroupId, m: Message): void => this.queueMessage(m.to, { group, msg: m });
  private batch: Batch;
  private writing = false;
  private turnScheduled = false;
  private tickTimer: TimerHandle | null = null;
  private stopped = false;
  private rpcSeq = 0;
  /**
   * This node's incarnation (an id of its process life), set once known; frames carry it, and RPCs
   * addressed to another incarnation of this node get no verdict (see NodeRpc.toIncarnation).
   */
  incarnation = 0;
  /** Each peer's incarnation, as the last frame from it said (requests are addressed to it). */
  private readonly peerIncarnations = new Map<NodeId, number>();
  /** The highest life of each peer ever seen, on disk (disk-identity.ts). */
  readonly peerLives = new PeerLives();
  private readonly rpcWaiting = new Map<number, { done: (body: unknown) => void; timer: TimerHandle }>();
  private readonly rpcHandlers = new Map<string, RpcHandler>();
  private readonly tickListeners: (() => void)[] = [];
  /** Storage writes issued by the current turn. */
  private writesThisTurn = 0;

  constructor(
    readonly nodeId: NodeId,
    private readonly ports: Ports,
    private readonly tickMs: number,
    /** Called when the disk failed a write: the node must stop (the host restarts it from disk). */
    private readonly onFatal: (err: StorageError) => void,
  ) {
    this.batch = this.newBatch();
  }

  private newBatch(lazyOps: WriteOp[] = []): Batch {
    return { ops: [], lazyOps, completions: [], send: this.sendFn };
  }

  start(): void {
    this.scheduleTick();
    this.scheduleTurn();
  }

  stop(): void {
    this.stopped = true;
    if (this.tickTimer !== null) this.ports.clock.cancelTimer(this.tickTimer);
    for (const r of this.replicas.values()) r.stop();
    // Requests still waiting hear "no answer" now, as at their timeout: a stopped node sends nothing on,
    // and a caller left waiting would never learn that its request's outcome is unknown.
    const waiting = [...this.rpcWaiting.values()];
    this.rpcWaiting.clear();
    for (const w of waiting) {
      this.ports.clock.cancelTimer(w.timer);
      w.done(undefined);
    }
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** True while a storage write is in flight (the simulator biases crashes toward these moments). */
  get writeInFlight(): boolean {
    return this.writing;
  }

  addReplica(r: Replica): void {
    assert(!this.replicas.has(r.group), `group ${r.group} already hosted`);
    this.replicas.set(r.group, r);
    this.turnOrder = null;
    r.onWork = () => this.scheduleTurn();
    this.scheduleTurn();
  }

  /** Stops a replica and queues the deletion of its records in the next batch. */
  removeReplica(group: GroupId, dropOps: readonly WriteOp[]): void {
    const r = this.replicas.get(group);
    if (r === undefined) return;
    r.stop();
    this.replicas.delete(group);
    this.turnOrder = null;
    for (const op of dropOps) this.batch.ops.push(op);
    this.scheduleTurn();
  }

  /** Queues write ops that are not Raft state (node metadata) into the next batch. */
  queueWrite(ops: readonly WriteOp[], onDurable?: () => void): void {
    for (const op of ops) this.batch.ops.push(op);
    if (onDurable !== undefined) this.batch.completions.push(onDurable);
    this.scheduleTurn();
  }

  onTick(listener: () => void): void {
    this.tickListeners.push(listener);
  }

  // ---- inputs -------------------------------------------------------------------------------

  receive(frame: Frame): void {
    if (this.stopped || frame.to !== this.nodeId) return;
    // The newest frame's word, not the highest ever seen: a peer whose disk was replaced starts counting
    // again from 1. A late frame of an earlier life costs at most a request that goes unanswered.
    if (frame.fromIncarnation !== 0) {
      this.peerIncarnations.set(frame.from, frame.fromIncarnation);
      // A new life of the peer is recorded in the next batch, before anything this frame causes.
      const op = this.peerLives.observe(frame.from, frame.fromIncarnation);
      if (op !== null) this.batch.ops.push(op);
    }
    for (const gm of frame.messages) {
      const r = this.replicas.get(gm.group);
      if (r !== undefined && gm.msg.to === this.nodeId) r.step(gm.msg);
    }
    for (const rpc of frame.rpcs) this.receiveRpc(frame.from, frame.fromIncarnation, rpc);
    this.scheduleTurn();
  }

  private scheduleTick(): void {
    this.tickTimer = this.ports.clock.setTimer(this.tickMs, () => {
      if (this.stopped) return;
      for (const r of this.replicas.values()) r.tick();
      for (const l of this.tickListeners) l();
      this.scheduleTurn();
      this.scheduleTick();
    });
  }

  scheduleTurn(): void {
    if (this.turnScheduled || this.stopped) return;
    this.turnScheduled = true;
    this.ports.clock.setTimer(0, this.runTurnFn);
  }

  // ---- the turn -----------------------------------------------------------------------------

  private runTurn(): void {
    this.turnScheduled = false;
    if (this.stopped) return;
    this.stats.turns++;
    this.writesThisTurn = 0;
    // Ascending group order: deterministic, and the same on every run of a seed. A replica removed
    // during the turn is stopped, and collects nothing.
    this.turnOrder ??= [...this.replicas.values()].sort((a, b) => a.group - b.group);
    for (const r of this.turnOrder) r.collect(this.batch);
    // Messages first: nothing in the outbox waits for this write (those that do are queued by its
    // completion), and a leader's appends then reach followers while its own fsync runs.
    this.flushOutbox();
    this.maybeWrite();
    if (this.writesThisTurn > this.stats.writesPerTurnMax) this.stats.writesPerTurnMax = this.writesThisTurn;
  }

  private maybeWrite(): void {
    if (this.writing) return;
    const b = this.batch;
    if (b.ops.length === 0 && b.completions.length === 0) return;
    if (b.ops.length > 0 && b.lazyOps.length > 0) {
      // Lazy ops go first: anything newer in this batch for the same keys must win.
      b.ops.unshift(...b.lazyOps);
      b.lazyOps.length = 0;
    }
    // Lazy ops not written now carry over to the next batch.
    this.batch = this.newBatch(b.ops.length === 0 ? b.lazyOps : []);
    this.writing = true;
    if (b.ops.length === 0) {
      // Nothing to write, but completions must still run after earlier writes (none is in flight).
      this.ports.clock.setTimer(0, () => this.writeDone(b, null));
      return;
    }
    this.writesThisTurn++;
    this.stats.writes++;
    this.stats.writeOps += b.ops.length;
    this.ports.storage.write(b.ops, (err) => this.writeDone(b, err));
  }

  private writeDone(b: Batch, err: StorageError | null): void {
    if (this.stopped) return;
    if (err !== null) {
      this.ports.logger.error('storage write failed: stopping the node', { code: err.code, message: err.message });
      this.stop();
      this.onFatal(err);
      return;
    }
    this.writing = false;
    for (const c of b.completions) c();
    this.scheduleTurn();
  }

  private queueMessage(to: NodeId, gm: GroupMessage): void {
    this.peerBox(to).messages.push(gm);
  }

  private peerBox(to: NodeId): { messages: GroupMessage[]; rpcs: NodeRpc[] } {
    this.outboxEmpty = false;
    let box = this.outbox.get(to);
    if (box === undefined) {
      box = { messages: [], rpcs: [] };
      this.outbox.set(to, box);
      this.outboxPeers.push(to);
      this.outboxPeers.sort((a, b) => a - b);
    }
    return box;
  }

  private flushOutbox(): void {
    if (this.outboxEmpty) return;
    this.outboxEmpty = true;
    for (const to of this.outboxPeers) {
      const box = this.outbox.get(to) as { messages: GroupMessage[]; rpcs: NodeRpc[] };
      const { messages, rpcs } = box;
      if (messages.length === 0 && rpcs.length === 0) continue;
      box.messages = [];
      box.rpcs = [];
      if (to === this.nodeId) {
        // Messages to ourselves never leave the node (a single-member group has none).
        continue;
      }
      this.stats.framesSent++;
      this.stats.messagesSent += messages.length;
      this.ports.transport.send(to, { from: this.nodeId, to, fromIncarnation: this.incarnation, messages, rpcs });
    }
  }

  // ---- node-to-node requests ------------------------------------------------------------------

  handle(method: string, handler: RpcHandler): void {
    this.rpcHandlers.set(method, handler);
  }

  /** Sends a request to a peer; done(undefined) if no answer within timeoutMs. */
  request(to: NodeId, method: string, body: unknown, timeoutMs: number, done: (body: unknown) => void): void {
    if (this.stopped) return done(undefined);
    const id = ++this.rpcSeq;
    const timer = this.ports.clock.setTimer(timeoutMs, () => {
      if (this.rpcWaiting.delete(id)) done(undefined);
    });
    this.rpcWaiting.set(id, { done, timer });
    this.queueRpc(to, { kind: 'request', id, method, body, toIncarnation: this.peerIncarnations.get(to) ?? 0 });
  }

  private receiveRpc(from: NodeId, fromIncarnation: number, rpc: NodeRpc): void {
    // Meant for another life of this node (sent before the requester heard of the restart, or a copy
    // delayed or duplicated across it): that life may have acted on the request, so this one gives no
    // verdict, only word that it is a new life. A response belongs to a request this life never sent.
    if (rpc.toIncarnation !== 0 && rpc.toIncarnation !== this.incarnation) {
      if (rpc.kind === 'request') this.queueRpc(from, { kind: 'unanswered', id: rpc.id, method: rpc.method, body: undefined, toIncarnation: fromIncarnation });
      return;
    }
    if (rpc.kind !== 'request') {
      const w = this.rpcWaiting.get(rpc.id);
      if (w === undefined) return; // late, after the timeout
      this.rpcWaiting.delete(rpc.id);
      this.ports.clock.cancelTimer(w.timer);
      w.done(rpc.kind === 'response' ? rpc.body : undefined);
      return;
    }
    const handler = this.rpcHandlers.get(rpc.method);
    const reply = (body: unknown): void => {
      if (!this.stopped) this.queueRpc(from, { kind: 'response', id: rpc.id, method: rpc.method, body, toIncarnation: fromIncarnation });
    };
    if (handler === undefined) reply({ error: 'UNKNOWN_METHOD' });
    else handler(from, rpc.body, reply);
  }

  private queueRpc(to: NodeId, rpc: NodeRpc): void {
    this.peerBox(to).rpcs.push(rpc);
    this.scheduleTurn();
  }

  /** Messages a replica wants sent outside a turn (tests). */
  sendNow(group: GroupId, m: Message): void {
    this.queueMessage(m.to, { group, msg: m });
    this.scheduleTurn();
  }
}
