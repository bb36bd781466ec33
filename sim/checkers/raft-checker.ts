// Raft's safety properties (Raft paper, Figure 3) checked continuously while the simulation runs:
//   election safety       at most one leader per term and group
//   log matching          entries with the same index and term have identical prefixes
//   leader completeness   a new leader's log holds every entry committed so far
//   state machine safety  no two nodes apply different entries at the same index
//   commit monotonicity   a node's commit index never goes back (within one incarnation)
// Logs are compared through a hash chain: chain(i) = H(chain(i-1), term(i), type(i), data(i)).
import type { GroupObserver, RaftStateView } from '../../broker/observer.ts';
import type { GroupId } from '../../broker/ports.ts';
import type { Entry, Index, NodeId, SnapshotMeta } from '../../raft/types.ts';
import { getOrCreate, innerMap } from '../maps.ts';

export interface Violation {
  readonly checker: string;
  readonly message: string;
  /** Virtual time of detection (ms). */
  readonly atMs: number;
}

export function hashBytes(data: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ (data[i] as number), 0x01000193) >>> 0;
  return h;
}

function chainNext(parent: number, e: Entry): number {
  let h = Math.imul(parent ^ e.term, 0x9e3779b1) >>> 0;
  h = Math.imul(h ^ (e.type === 'conf' ? 1 : 2), 0x85ebca6b) >>> 0;
  return hashBytes(e.data, h);
}

/** Chain value of a group's bootstrap snapshot (index 1): identical on every member. */
const BOOTSTRAP_CHAIN = 0x1234567;

/** A node's durable log as the checker mirrors it: chain[k] is the chain at index base + 1 + k. */
interface Mirror {
  base: Index;
  /** Chain at `base`, or undefined if unknown (a snapshot point the checker never saw applied). */
  baseChain: number | undefined;
  chains: number[];
  terms: number[];
}

interface GroupState {
  /** (term) -> leader. */
  readonly leaders: Map<number, NodeId>;
  /**
   * Every durable entry any node ever held: index -> (term, chain) of the first one seen there, and
   * index -> term -> chain for the other terms (rare: only entries that lost to another leader's).
   */
  readonly seenFirst: Map<number, { readonly term: number; readonly chain: number }>;
  readonly seenOther: Map<number, Map<number, number>>;
  /** index -> (term, data) hash of the entry applied there. */
  readonly applied: Map<number, number>;
  /** index -> chain of the committed prefix (learned from applies). */
  readonly committedChain: Map<number, number>;
  /**
   * term -> highest commit index a node reported while in that term: entries up to it were committed in
   * that term or an earlier one (exactly in it, when the reporter led it).
   */
  readonly commitsByTerm: Map<number, number>;
  maxApplied: number;
}

/** What the checker knows of one node's replica of one group (within the node's current incarnation). */
interface Replica {
  mirror: Mirror | undefined;
  commit: number;
  appliedAt: number;
  /** Role and term last reported; role '' before the first report (and after a restart). */
  role: string;
  roleTerm: number;
}

/** Highest index known to be committed in a term before `term` (the bootstrap entry, 1, at least). */
function committedBefore(s: GroupState, term: number): number {
  let c = 1;
  for (const [t, commit] of s.commitsByTerm) if (t < term && commit > c) c = commit;
  return c;
}

const newGroupState = (): GroupState => ({ leaders: new Map(), seenFirst: new Map(), seenOther: new Map(), applied: new Map(), committedChain: new Map([[1, BOOTSTRAP_CHAIN]]), commitsByTerm: new Map(), maxApplied: 1 });
const newReplica = (): Replica => ({ mirror: undefined, commit: 0, appliedAt: 0, role: '', roleTerm: 0 });

/** The chain first recorded for entry term/index, recording `chain` if it is the first. */
function seenChain(s: GroupState, index: number, term: number, chain: number): number {
  const first = s.seenFirst.get(index);
  if (first === undefined) {
    s.seenFirst.set(index, { term, chain });
    return chain;
  }
  if (first.term === term) return first.chain;
  const byTerm = innerMap(s.seenOther, index);
  const other = byTerm.get(term);
  if (other !== undefined) return other;
  byTerm.set(term, chain);
  return chain;
}

export class RaftChecker implements GroupObserver {
  readonly violations: Violation[] = [];
  private readonly groups = new Map<GroupId, GroupState>();
  /** node -> group -> replica: the hooks run on every apply and state change, so no string keys. */
  private readonly replicas = new Map<NodeId, Map<GroupId, Replica>>();
  /** Entries applied, per group (for throughput figures). */
  readonly appliedCount = new Map<GroupId, number>();
  /** Checks stop after this many violations (the first ones matter; the rest are consequences). */
  private readonly violationsMax = 20;

  constructor(private readonly now: () => number) {}

  private group(g: GroupId): GroupState {
    return getOrCreate(this.groups, g, newGroupState);
  }

  private replica(node: NodeId, g: GroupId): Replica {
    return getOrCreate(innerMap(this.replicas, node), g, newReplica);
  }

  fail(checker: string, message: string): void {
    if (this.violations.length < this.violationsMax) this.violations.push({ checker, message, atMs: this.now() });
  }

  // ---- mirrors ------------------------------------------------------------------------------

  private chainAt(m: Mirror, i: number): number | undefined {
    if (i === m.base) return m.baseChain;
    if (i < m.base) return undefined;
    return m.chains[i - m.base - 1];
  }

  private resetMirror(r: Replica, g: GroupId, snap: SnapshotMeta): Mirror {
    const s = this.group(g);
    const m: Mirror = { base: snap.index, baseChain: snap.index === 1 ? BOOTSTRAP_CHAIN : s.committedChain.get(snap.index), chains: [], terms: [] };
    r.mirror = m;
    return m;
  }

  private appendToMirror(node: NodeId, g: GroupId, m: Mirror, entries: readonly Entry[]): void {
    const s = this.group(g);
    for (const e of entries) {
      if (e.index <= m.base) continue;
      const keep = e.index - m.base - 1;
      if (keep > m.chains.length) {
        this.fail('log-matching', `node ${node} group ${g}: entry ${e.index} persisted after a gap (log ends at ${m.base + m.chains.length})`);
        return;
      }
      if (m.chains.length !== keep) {
        m.chains.length = keep;
        m.terms.length = keep;
      }
      const parent = this.chainAt(m, e.index - 1);
      if (parent === undefined) {
        // Prefix unknown to the checker (a snapshot it never saw applied): record the term only.
        m.chains.push(Number.NaN);
        m.terms.push(e.term);
        continue;
      }
      const chain = Number.isNaN(parent) ? Number.NaN : chainNext(parent, e);
      m.chains.push(chain);
      m.terms.push(e.term);
      if (Number.isNaN(chain)) continue;
      const other = seenChain(s, e.index, e.term, chain);
      if (other !== chain) this.fail('log-matching', `group ${g}: node ${node} holds entry ${e.term}/${e.index} with a prefix or content that differs from another node's entry ${e.term}/${e.index}`);
    }
  }

  // ---- observer hooks -----------------------------------------------------------------------

  recovered(node: NodeId, g: GroupId, snap: SnapshotMeta, entries: readonly Entry[], commit: Index): void {
    const r = this.replica(node, g);
    const m = this.resetMirror(r, g, snap);
    this.appendToMirror(node, g, m, entries);
    r.commit = commit;
    r.appliedAt = snap.index;
    r.role = '';
  }

  persisted(node: NodeId, g: GroupId, snap: SnapshotMeta | null, entries: readonly Entry[]): void {
    const r = this.replica(node, g);
    let m = r.mirror;
    if (snap !== null || m === undefined) m = this.resetMirror(r, g, snap ?? { index: 0 as Index, term: 0 as never, confState: { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } });
    this.appendToMirror(node, g, m, entries);
  }

  restored(node: NodeId, g: GroupId, meta: SnapshotMeta): void {
    const s = this.group(g);
    if (meta.index > s.maxApplied) this.fail('state-machine-safety', `group ${g}: node ${node} restored a snapshot at ${meta.index}, beyond anything applied anywhere (${s.maxApplied})`);
    this.replica(node, g).appliedAt = meta.index;
  }

  applied(node: NodeId, g: GroupId, e: Entry): void {
    const r = this.replica(node, g);
    const s = this.group(g);
    const prev = r.appliedAt;
    if (e.index !== prev + 1) this.fail('state-machine-safety', `group ${g}: node ${node} applied ${e.index} after ${prev}`);
    r.appliedAt = e.index;
    this.appliedCount.set(g, (this.appliedCount.get(g) ?? 0) + 1);
    const h = hashBytes(e.data, Math.imul(e.term, 0x9e3779b1) >>> 0);
    const other = s.applied.get(e.index);
    if (other === undefined) s.applied.set(e.index, h);
    else if (other !== h) this.fail('state-machine-safety', `group ${g}: node ${node} applied entry ${e.term}/${e.index}, which differs from what another node applied at ${e.index}`);
    const m = r.mirror;
    const chain = m === undefined ? undefined : this.chainAt(m, e.index);
    if (chain !== undefined && !Number.isNaN(chain)) {
      const known = s.committedChain.get(e.index);
      if (known === undefined) s.committedChain.set(e.index, chain);
      else if (known !== chain) this.fail('state-machine-safety', `group ${g}: node ${node} applied ${e.index} with a committed prefix that differs from another node's`);
    }
    if (e.index > s.maxApplied) s.maxApplied = e.index;
  }

  raftState(node: NodeId, g: GroupId, st: RaftStateView): void {
    const r = this.replica(node, g);
    const s = this.group(g);
    const prevCommit = r.commit;
    if (st.commit < prevCommit) this.fail('commit-monotonic', `group ${g}: node ${node} commit index went back from ${prevCommit} to ${st.commit}`);
    r.commit = st.commit;
    if (st.commit > (s.commitsByTerm.get(st.term) ?? 0)) s.commitsByTerm.set(st.term, st.commit);
    const wasLeader = r.role === 'leader' && r.roleTerm === st.term;
    r.role = st.role;
    r.roleTerm = st.term;
    if (st.role !== 'leader' || wasLeader) return;
    const other = s.leaders.get(st.term);
    if (other !== undefined && other !== node) this.fail('election-safety', `group ${g}: nodes ${other} and ${node} both leaders of term ${st.term}`);
    s.leaders.set(st.term, node);
    this.checkLeaderCompleteness(node, g, r.mirror, st);
  }

  private checkLeaderCompleteness(node: NodeId, g: GroupId, m: Mirror | undefined, st: RaftStateView): void {
    const s = this.group(g);
    if (m === undefined) return;
    // Raft §5.4: entries committed in earlier terms. A candidate of an old term may win late (its votes were
    // delayed) after later terms committed more: as leader of its term it need not hold those.
    const c = committedBefore(s, st.term);
    if (c <= m.base) return; // its snapshot covers every such entry
    const lastDurable = m.base + m.chains.length;
    if (c > lastDurable) {
      this.fail('leader-completeness', `group ${g}: node ${node} became leader of term ${st.term} with log ending at ${lastDurable}, missing committed entries up to ${c}`);
      return;
    }
    // The committed prefix is known (from applies) up to the highest index applied anywhere.
    const at = Math.min(c, s.maxApplied);
    if (at <= m.base) return;
    const mine = this.chainAt(m, at);
    const committed = s.committedChain.get(at);
    if (mine !== undefined && !Number.isNaN(mine) && committed !== undefined && mine !== committed) {
      this.fail('leader-completeness', `group ${g}: node ${node} became leader of term ${st.term} with a log that differs from the committed prefix at ${at}`);
    }
  }

  /** Highest index applied anywhere in the group. */
  maxApplied(g: GroupId): number {
    return this.groups.get(g)?.maxApplied ?? 0;
  }

  /** Term -> leader per group, for reports. */
  leaderCount(g: GroupId): number {
    return this.groups.get(g)?.leaders.size ?? 0;
  }
}
