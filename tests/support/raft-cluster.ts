// An in-memory group of RawNodes for tests: a message queue instead of a network, MemoryStorage as
// the "disk", and explicit control over when writes become durable (async mode) so tests can crash a
// node with writes in flight or deliver a stale persistence acknowledgement.
import { RawNode, MemoryStorage, nodeId, type Entry, type Index, type Message, type MessageType, type NodeId, type PersistAck, type Ready, type HardState, type Snapshot, type ConfState, type PlantedBugs, type Rng } from '../../raft/index.ts';
import { describeConfState, describeEntries, describeEntry, describeHardState, describeMessage } from '../../raft/describe.ts';

export interface NodeOptions {
  preVote?: boolean;
  checkQuorum?: boolean;
  /** Writes become durable only on persist() (default: durable as soon as the Ready is handled). */
  async?: boolean;
  electionTicks?: number;
  heartbeatTicks?: number;
  entriesPerMessageMax?: number;
  messageBytesMax?: number;
  inflightMessagesMax?: number;
  uncommittedBytesMax?: number;
  snapshotChunkBytesMax?: number;
  /** The host cannot snapshot on request (a partition snapshots only at its retention point). */
  fixedSnapshots?: boolean;
  plantedBugs?: PlantedBugs;
  rng?: Rng;
}

interface PendingWrite {
  readonly entries: readonly Entry[];
  readonly hardState: HardState | null;
  readonly snapshot: Snapshot | null;
  readonly persistedMessages: readonly Message[];
  readonly ack: PersistAck;
}

export interface HarnessNode {
  readonly id: NodeId;
  raw: RawNode;
  readonly storage: MemoryStorage;
  readonly options: NodeOptions;
  /** The state machine: payloads of applied normal entries, in order. */
  applied: string[];
  appliedIndex: Index;
  confState: ConfState;
  pendingWrites: PendingWrite[];
  crashed: boolean;
}

/** Always 0: randomized election timeouts equal electionTicks, which keeps scripts predictable. */
export const ZERO_RNG: Rng = { nextInt: () => 0 };

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export interface DeliverFilter {
  to?: readonly NodeId[];
  from?: readonly NodeId[];
  types?: readonly MessageType[];
  drop?: boolean;
  /** Deliver at most this many of the matching messages (the oldest). */
  limit?: number;
}

export class RaftCluster {
  readonly nodes = new Map<NodeId, HarnessNode>();
  /** Messages in flight, oldest first. */
  queue: Message[] = [];
  /** Directed links that drop everything: "from->to". */
  readonly cut = new Set<string>();
  readonly out: string[] = [];
  logLevel: 'none' | 'info' | 'debug' = 'info';

  private log(line: string): void {
    this.out.push(line);
  }

  takeOutput(): string {
    const s = this.out.join('\n');
    this.out.length = 0;
    return s;
  }

  node(id: number): HarnessNode {
    const n = this.nodes.get(nodeId(id));
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  ids(): NodeId[] {
    return [...this.nodes.keys()].sort((a, b) => a - b);
  }

  /**
   * Adds nodes. With `snapshotIndex` > 0 each starts from a snapshot at that index holding the given
   * configuration (how a real cluster bootstraps); otherwise it starts empty and learns the config later.
   */
  addNodes(ids: readonly number[], conf: { voters: readonly number[]; learners?: readonly number[] }, snapshotIndex: number, options: NodeOptions = {}): void {
    for (const raw of ids) {
      const id = nodeId(raw);
      const storage = new MemoryStorage();
      const confState: ConfState = { voters: conf.voters.map(nodeId), learners: (conf.learners ?? []).map(nodeId), votersOutgoing: [], learnersNext: [], autoLeave: false };
      if (snapshotIndex > 0) {
        storage.applySnapshot({ meta: { index: snapshotIndex as Index, term: 1 as never, confState }, data: encoder.encode('[]') });
      }
      const n: HarnessNode = {
        id, storage, options, raw: undefined as unknown as RawNode, applied: [], appliedIndex: snapshotIndex as Index,
        confState, pendingWrites: [], crashed: false,
      };
      this.nodes.set(id, n);
      n.raw = this.makeRawNode(n);
    }
  }

  private makeRawNode(n: HarnessNode): RawNode {
    const o = n.options;
    return new RawNode({
      id: n.id,
      storage: n.storage,
      rng: o.rng ?? ZERO_RNG,
      applied: n.appliedIndex,
      electionTicks: o.electionTicks ?? 10,
      heartbeatTicks: o.heartbeatTicks ?? 1,
      preVote: o.preVote ?? false,
      checkQuorum: o.checkQuorum ?? false,
      ...(o.entriesPerMessageMax !== undefined ? { entriesPerMessageMax: o.entriesPerMessageMax } : {}),
      ...(o.messageBytesMax !== undefined ? { messageBytesMax: o.messageBytesMax } : {}),
      ...(o.inflightMessagesMax !== undefined ? { inflightMessagesMax: o.inflightMessagesMax } : {}),
      ...(o.uncommittedBytesMax !== undefined ? { uncommittedBytesMax: o.uncommittedBytesMax } : {}),
      ...(o.snapshotChunkBytesMax !== undefined ? { snapshotChunkBytesMax: o.snapshotChunkBytesMax } : {}),
      plantedBugs: o.plantedBugs ?? {},
      logger: {
        info: (m) => { if (this.logLevel !== 'none') this.log(`INFO ${m}`); },
        debug: (m) => { if (this.logLevel === 'debug') this.log(`DEBUG ${m}`); },
      },
    });
  }

  // ---- Ready handling -----------------------------------------------------------------------

  /** Handles one Ready of node `id`. Returns false if it had none. */
  processReady(id: NodeId, quiet = false): boolean {
    const n = this.nodes.get(id);
    if (n === undefined || n.crashed || !n.raw.hasReady()) return false;
    const rd = n.raw.ready();
    if (!quiet) this.describeReady(n, rd);
    // Apply committed entries and snapshots (the state machine).
    if (rd.snapshot !== null) {
      n.applied = JSON.parse(decoder.decode(rd.snapshot.data)) as string[];
      n.appliedIndex = rd.snapshot.meta.index;
      n.confState = rd.snapshot.meta.confState;
    }
    for (const e of rd.committedEntries) this.apply(n, e);
    this.queue.push(...rd.messages);
    if (rd.persistAck !== null) {
      n.pendingWrites.push({ entries: rd.entries, hardState: rd.hardState, snapshot: rd.snapshot, persistedMessages: rd.persistedMessages, ack: rd.persistAck });
    } else {
      this.queue.push(...rd.persistedMessages);
    }
    n.raw.advance();
    // The leader needs a snapshot newer than the stored one (e.g. one that includes a new member).
    if (n.raw.takeSnapshotRequest() && n.options.fixedSnapshots !== true) {
      n.storage.createSnapshot(n.appliedIndex, n.confState, encoder.encode(JSON.stringify(n.applied)));
      if (!quiet) this.log(`> ${id} took a snapshot at ${n.appliedIndex} on request`);
    }
    if (!n.options.async) this.persist(id, Infinity, true);
    return true;
  }

  private apply(n: HarnessNode, e: Entry): void {
    n.appliedIndex = e.index;
    if (e.type === 'conf') {
      n.confState = n.raw.applyConfChangeEntry(e);
      return;
    }
    if (e.data.byteLength > 0) n.applied.push(decoder.decode(e.data));
  }

  private describeReady(n: HarnessNode, rd: Ready): void {
    this.log(`> ${n.id} handling Ready`);
    if (rd.softState !== null) this.log(`  role=${rd.softState.role} lead=${rd.softState.lead}`);
    if (rd.hardState !== null) this.log(`  hard ${describeHardState(rd.hardState)}`);
    if (rd.entries.length > 0) this.log(`  persist ${describeEntries(rd.entries)}`);
    if (rd.snapshot !== null) this.log(`  snapshot ${rd.snapshot.meta.term}/${rd.snapshot.meta.index} ${describeConfState(rd.snapshot.meta.confState)}`);
    for (const e of rd.committedEntries) this.log(`  apply ${describeEntry(e)}`);
    for (const rs of rd.readStates) this.log(`  read-state ctx=${rs.context} index=${rs.index}`);
    for (const m of rd.messages) this.log(`  send ${describeMessage(m)}`);
    for (const m of rd.persistedMessages) this.log(`  send-after-persist ${describeMessage(m)}`);
  }

  /** Makes up to `count` of node `id`'s pending writes durable, oldest first. */
  persist(id: NodeId, count = Infinity, quiet = false): number {
    const n = this.nodes.get(id);
    if (n === undefined || n.crashed) return 0;
    let done = 0;
    while (done < count && n.pendingWrites.length > 0) {
      const w = n.pendingWrites.shift() as PendingWrite;
      if (w.snapshot !== null) n.storage.applySnapshot(w.snapshot);
      n.storage.append(w.entries);
      if (w.hardState !== null) n.storage.setHardState(w.hardState);
      this.queue.push(...w.persistedMessages);
      if (!quiet) this.log(`> ${id} persisted ${w.entries.length > 0 ? describeEntries(w.entries) : '(no entries)'}${w.hardState ? ` hard ${describeHardState(w.hardState)}` : ''}`);
      n.raw.onPersisted(w.ack);
      done++;
    }
    return done;
  }

  /** Delivers the ack of a pending write without removing it: simulates a stale duplicate completion. */
  replayAck(id: NodeId, ack: PersistAck): void {
    this.node(id).raw.onPersisted(ack);
  }

  // ---- network ------------------------------------------------------------------------------

  private matches(m: Message, f: DeliverFilter): boolean {
    if (f.to !== undefined && f.to.length > 0 && !f.to.includes(m.to)) return false;
    if (f.from !== undefined && f.from.length > 0 && !f.from.includes(m.from)) return false;
    if (f.types !== undefined && f.types.length > 0 && !f.types.includes(m.type)) return false;
    return true;
  }

  /** Delivers (or drops) queued messages matching the filter, in order. Returns how many. */
  deliver(f: DeliverFilter = {}, quiet = false): number {
    const selected: Message[] = [];
    const rest: Message[] = [];
    const limit = f.limit ?? Infinity;
    for (const m of this.queue) (selected.length < limit && this.matches(m, f) ? selected : rest).push(m);
    this.queue = rest;
    for (const m of selected) {
      const target = this.nodes.get(m.to);
      if (f.drop === true) {
        if (!quiet) this.log(`dropped: ${describeMessage(m)}`);
        continue;
      }
      if (target === undefined || target.crashed || this.cut.has(`${m.from}->${m.to}`)) {
        if (!quiet) this.log(`lost: ${describeMessage(m)}`);
        continue;
      }
      if (!quiet) this.log(describeMessage(m));
      target.raw.step(m);
    }
    return selected.length;
  }

  /** Duplicates matching queued messages (each copy right after its original). */
  duplicate(f: DeliverFilter): number {
    const next: Message[] = [];
    let n = 0;
    for (const m of this.queue) {
      next.push(m);
      if (this.matches(m, f)) {
        next.push(m);
        n++;
      }
    }
    this.queue = next;
    return n;
  }

  /** Reverses the order of matching queued messages (reordering on the wire). */
  reorder(f: DeliverFilter): void {
    const positions: number[] = [];
    this.queue.forEach((m, i) => { if (this.matches(m, f)) positions.push(i); });
    const picked = positions.map((i) => this.queue[i] as Message).reverse();
    positions.forEach((pos, k) => { this.queue[pos] = picked[k] as Message; });
  }

  /** Cuts every link between the groups (both directions). */
  partition(groups: readonly (readonly number[])[]): void {
    for (const a of groups) for (const b of groups) {
      if (a === b) continue;
      for (const x of a) for (const y of b) this.cut.add(`${x}->${y}`);
    }
  }

  cutLink(from: number, to: number): void {
    this.cut.add(`${from}->${to}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Handles Readies, completes writes and delivers messages until nothing moves. */
  stabilize(ids?: readonly NodeId[], quiet = false): void {
    const only = ids !== undefined && ids.length > 0 ? ids : undefined;
    for (let round = 0; round < 10_000; round++) {
      let moved = false;
      for (const id of only ?? this.ids()) {
        if (this.processReady(id, quiet)) moved = true;
        const n = this.nodes.get(id);
        if (n !== undefined && n.options.async && this.persist(id, Infinity, quiet) > 0) moved = true;
      }
      const f: DeliverFilter = only !== undefined ? { to: only } : {};
      if (this.queue.some((m) => this.matches(m, f))) {
        this.deliver(f, quiet);
        moved = true;
      }
      if (!moved) return;
    }
    throw new Error('stabilize: no fixpoint after 10000 rounds');
  }

  // ---- faults and operations ----------------------------------------------------------------

  /** kill -9: everything not durable is lost, including queued messages to it. */
  crash(id: NodeId): void {
    const n = this.node(id);
    n.crashed = true;
    n.pendingWrites = [];
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
  }

  /** Restarts from durable state: storage, and a state machine rebuilt from the snapshot. */
  restart(id: NodeId): void {
    const n = this.node(id);
    const snap = n.storage.snapshot();
    n.applied = snap.meta.index > 0 ? (JSON.parse(decoder.decode(snap.data)) as string[]) : [];
    n.appliedIndex = snap.meta.index;
    n.confState = snap.meta.confState;
    n.crashed = false;
    n.raw = this.makeRawNode(n);
  }

  /** Snapshots the state machine at its applied index and compacts the log up to `index`. */
  compact(id: NodeId, index: Index): void {
    const n = this.node(id);
    const at = n.appliedIndex;
    n.storage.createSnapshot(at, n.confState, encoder.encode(JSON.stringify(n.applied)));
    n.storage.compact(Math.min(index, at) as Index);
  }

  propose(id: NodeId, data: string): string {
    const r = this.node(id).raw.propose(encoder.encode(data));
    return r.ok ? `ok index=${r.index}` : `refused ${r.code} leader=${r.leader}`;
  }
}
