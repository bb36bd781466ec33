// Helpers for the Raft-paper section tests: single nodes driven message by message (the way the paper
// states its rules, "a server that receives X does Y"), and small clusters whose logs are built by hand
// (Figure 7, Figure 8) on top of the RaftCluster harness.
import {
  MemoryStorage, RawNode, SILENT_LOGGER, NONE, nodeId,
  type ConfState, type Entry, type Index, type Message, type MsgApp, type MsgAppResp,
  type MsgVote, type MsgVoteResp, type NodeId, type PlantedBugs, type Rng, type Term,
} from '../../raft/index.ts';
import { RaftCluster, ZERO_RNG, type NodeOptions } from '../support/raft-cluster.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const enc = (s: string): Uint8Array => encoder.encode(s);
export const dec = (b: Uint8Array): string => decoder.decode(b);

/**
 * Entries with the given terms at consecutive indexes starting at `from`. The payload names the entry
 * by (term, index), so two entries with the same index and term are the same entry (log matching).
 */
export function entries(terms: readonly number[], from = 1): Entry[] {
  return terms.map((t, k) => entry(from + k, t));
}

export function entry(index: number, t: number): Entry {
  return { index: index as Index, term: t as Term, type: 'normal', data: enc(`${t}/${index}`) };
}

export function confState(voters: readonly number[], learners: readonly number[] = []): ConfState {
  return { voters: voters.map(nodeId), learners: learners.map(nodeId), votersOutgoing: [], learnersNext: [], autoLeave: false };
}

/**
 * Fills an empty MemoryStorage with a membership (an index-0 snapshot carrying only the configuration),
 * a log whose entry at index k+1 has term `log[k]`, and a hard state (by default: the last log term,
 * no vote, nothing committed).
 */
/** A hard state written with plain numbers (the tests' own notation). */
export interface HardStateInit {
  readonly term?: number;
  readonly vote?: number;
  readonly commit?: number;
}

export function seedStorage(storage: MemoryStorage, voters: readonly number[], log: readonly number[], hard?: HardStateInit, learners: readonly number[] = []): void {
  storage.applySnapshot({ meta: { index: 0 as Index, term: 0 as Term, confState: confState(voters, learners) }, data: new Uint8Array(0) });
  storage.append(entries(log));
  const lastTerm = log.length === 0 ? 0 : Math.max(...log);
  storage.setHardState({ term: (hard?.term ?? lastTerm) as Term, vote: nodeId(hard?.vote ?? NONE), commit: (hard?.commit ?? 0) as Index });
}

// ---- a single node, driven by hand ------------------------------------------------------------

export interface PeerOptions {
  readonly id: number;
  readonly voters: readonly number[];
  readonly learners?: readonly number[];
  /** Terms of the entries at index 1, 2, ... */
  readonly log?: readonly number[];
  readonly hard?: HardStateInit;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly rng?: Rng;
  readonly plantedBugs?: PlantedBugs;
  /** RaftConfig.voteFenceTerm: the replica's disk was replaced. */
  readonly voteFenceTerm?: number;
}

/** One RawNode with synchronous durable storage: every Ready is written, applied and acknowledged at once. */
export class Peer {
  readonly raw: RawNode;
  readonly storage = new MemoryStorage();
  /** Committed entries handed out for applying, in order. */
  readonly applied: Entry[] = [];

  constructor(readonly options: PeerOptions) {
    seedStorage(this.storage, options.voters, options.log ?? [], options.hard, options.learners ?? []);
    this.raw = new RawNode({
      id: nodeId(options.id),
      storage: this.storage,
      rng: options.rng ?? ZERO_RNG,
      electionTicks: options.electionTicks ?? 10,
      heartbeatTicks: options.heartbeatTicks ?? 1,
      preVote: options.preVote ?? false,
      checkQuorum: options.checkQuorum ?? false,
      logger: SILENT_LOGGER,
      ...(options.plantedBugs === undefined ? {} : { plantedBugs: options.plantedBugs }),
      ...(options.voteFenceTerm === undefined ? {} : { voteFenceTerm: options.voteFenceTerm as Term }),
    });
  }

  get raft(): RawNode['raft'] {
    return this.raw.raft;
  }

  /** Handles every pending Ready: persist, apply, advance, acknowledge. Returns everything sent, in order. */
  drain(): Message[] {
    const sent: Message[] = [];
    for (let round = 0; this.raw.hasReady(); round++) {
      if (round >= 100) throw new Error('drain: Ready keeps coming');
      const rd = this.raw.ready();
      sent.push(...rd.messages);
      for (const e of rd.committedEntries) {
        this.applied.push(e);
        if (e.type === 'conf') this.raw.applyConfChangeEntry(e);
      }
      this.raw.advance();
      if (rd.snapshot !== null) this.storage.applySnapshot(rd.snapshot);
      this.storage.append(rd.entries);
      if (rd.hardState !== null) this.storage.setHardState(rd.hardState);
      sent.push(...rd.persistedMessages);
      if (rd.persistAck !== null) this.raw.onPersisted(rd.persistAck);
    }
    return sent;
  }

  /** Steps one message in and returns everything the node sends in response. */
  receive(m: Message): Message[] {
    this.raw.step(m);
    return this.drain();
  }

  tick(n = 1): Message[] {
    const sent: Message[] = [];
    for (let k = 0; k < n; k++) {
      this.raw.tick();
      sent.push(...this.drain());
    }
    return sent;
  }

  /** The log as [term of index 1, term of index 2, ...] (the node must not be compacted). */
  logTerms(): number[] {
    const log = this.raft.log;
    const out: number[] = [];
    for (let i = 1; i <= log.lastIndex(); i++) out.push(log.term(i as Index) as number);
    return out;
  }

  /** Makes this node leader of the next term by hand: campaign, then votes from `grantedBy`. */
  electBy(grantedBy: readonly number[]): Message[] {
    this.raw.raft.hup('election');
    const sent = this.drain();
    for (const from of grantedBy) sent.push(...this.receive(voteResp(from, this.options.id, this.raft.term, false)));
    return sent;
  }
}

// ---- message constructors (the fields the paper names) ----------------------------------------

export function app(from: number, to: number, t: number, prev: { index: number; term: number }, ents: readonly Entry[], commit: number): MsgApp {
  return { type: 'app', from: nodeId(from), to: nodeId(to), term: t as Term, index: prev.index as Index, logTerm: prev.term as Term, entries: ents, commit: commit as Index };
}

export function appResp(from: number, to: number, t: number, index: number): MsgAppResp {
  return { type: 'appResp', from: nodeId(from), to: nodeId(to), term: t as Term, index: index as Index, reject: false, rejectHint: 0 as Index, logTerm: 0 as Term };
}

export function vote(from: number, to: number, t: number, last: { index: number; term: number }, type: 'vote' | 'preVote' = 'vote'): MsgVote {
  return { type, from: nodeId(from), to: nodeId(to), term: t as Term, index: last.index as Index, logTerm: last.term as Term, transfer: false };
}

export function voteResp(from: number, to: number, t: number, reject: boolean, type: 'voteResp' | 'preVoteResp' = 'voteResp'): MsgVoteResp {
  return { type, from: nodeId(from), to: nodeId(to), term: t as Term, reject };
}

/** Messages of one type, narrowed. */
export function ofType<T extends Message['type']>(msgs: readonly Message[], type: T): (Message & { readonly type: T })[] {
  return msgs.filter((m): m is Message & { readonly type: T } => m.type === type);
}

// ---- clusters with hand-built logs ------------------------------------------------------------

/**
 * A RaftCluster whose node `id` starts from `logs[id]` (terms of indexes 1..n) and `hards[id]`, all with
 * the same voters. Messages are kept quiet: these tests assert on state, not on transcripts.
 */
export function clusterWithLogs(
  voters: readonly number[],
  logs: Readonly<Record<number, readonly number[]>>,
  hards: Readonly<Record<number, HardStateInit>> = {},
  options: NodeOptions = {},
): RaftCluster {
  const c = new RaftCluster();
  c.logLevel = 'none';
  c.addNodes(voters, { voters }, 0, options);
  for (const id of voters) {
    const n = c.node(id);
    seedStorage(n.storage, voters, logs[id] ?? [], hards[id]);
    c.restart(n.id);
  }
  return c;
}

/**
 * Ticks leader `id` through two heartbeat rounds (the harness default is a heartbeat every tick) so the
 * followers learn its commit index, which rides on appends and heartbeats (§5.3).
 */
export function heartbeatRounds(c: RaftCluster, id: number): void {
  for (let k = 0; k < 2; k++) {
    c.node(id).raw.tick();
    c.stabilize(undefined, true);
  }
}

/** Node `id` campaigns (without pre-vote) and the cluster settles. */
export function elect(c: RaftCluster, id: number): void {
  c.node(id).raw.raft.hup('election');
  c.stabilize(undefined, true);
}

/** Terms of node `id`'s log, index 1 upwards (stable storage plus the unstable tail). */
export function logTermsOf(c: RaftCluster, id: number): number[] {
  const log = c.node(id).raw.raft.log;
  const out: number[] = [];
  for (let i = 1; i <= log.lastIndex(); i++) out.push(log.term(i as Index) as number);
  return out;
}

export function leaderOf(c: RaftCluster): NodeId[] {
  return c.ids().filter((id) => !c.node(id).crashed && c.node(id).raw.raft.role === 'leader');
}

/** Every live node ticks `n` times; after each round of ticks the cluster settles. */
export function tickAll(c: RaftCluster, n: number): void {
  for (let k = 0; k < n; k++) {
    for (const id of c.ids()) if (!c.node(id).crashed) c.node(id).raw.tick();
    c.stabilize(undefined, true);
  }
}

/**
 * Like stabilize, but every message for which `drop(m)` holds is lost on the wire. Lets a test hold
 * back exactly the message the paper's figure says never arrived.
 */
export function pump(c: RaftCluster, drop: (m: Message) => boolean): void {
  for (let round = 0; round < 10_000; round++) {
    let moved = false;
    for (const id of c.ids()) if (c.processReady(id, true)) moved = true;
    if (c.queue.length > 0) {
      c.queue = c.queue.filter((m) => !drop(m));
      c.deliver({}, true);
      moved = true;
    }
    if (!moved) return;
  }
  throw new Error('pump: no fixpoint');
}
