// Consumer-group members under faults: a few members of one group share a data topic's partitions as
// real consumers do (net/client/group-membership.ts): one heartbeat at a time to a random node, partitions
// started when an answer gives them and let go of when one takes them away, commits of what they hold
// every half second, everything dropped after a session's silence or when told they are unknown. Now
// and then a member leaves and a new one joins, so the group keeps changing hands. While the faults last,
// a member may also vanish (a consumer killed with kill -9: no leave, its partitions wait for the
// coordinator to expire its session) or stall for longer than its session (a long GC pause or a frozen
// VM) and then carry on as if nothing happened: it commits what it held before it learns it was removed,
// and those commits must be refused. The MemberChecker sees it all.
import type { KeelNode } from '../../broker/keel-node.ts';
import type { HeartbeatAnswer } from '../../broker/group-coordinator.ts';
import type { AdminResult } from '../../controller/errors.ts';
import type { NodeId } from '../../raft/types.ts';
import type { MemberChecker } from '../checkers/member-checker.ts';
import type { World } from '../world.ts';
import { keelCall } from './keel-call.ts';
import type { DataTopic } from './partition-workload.ts';

export interface MemberWorkloadOptions {
  readonly group: string;
  readonly topic: DataTopic;
  readonly members: number;
  readonly attemptTimeoutMs: number;
  readonly linkDelayMs: number;
}

const HEARTBEAT_MS = 1_000;
const COMMIT_EVERY_MS = 500;
/** A member that heard nothing for the session less this (the coordinator's clock may run a little fast) drops everything. */
const SESSION_MARGIN_MS = 2 * HEARTBEAT_MS;
const LEAVE_CHANCE_PER_BEAT = 0.03;
const VANISH_CHANCE_PER_BEAT = 0.04;
const STALL_CHANCE_PER_BEAT = 0.04;
/** A stall outlasts the session by this much at most (it starts at the session, so the member is removed). */
const STALL_BEYOND_SESSION_MS_MAX = 3_000;

interface SimMember {
  readonly id: string;
  readonly held: Set<number>;
  /** Send time of the last heartbeat that was answered. */
  lastAnsweredMs: number;
  sessionMs: number;
  leaving: boolean;
  /** Stalled: it sends nothing until it wakes up (see stall()). */
  stalled: boolean;
}

export interface MemberWorkloadCounts {
  /** Members that vanished without leaving (their sessions must lapse). */
  vanished: number;
  /** Members that stalled for longer than their session, then carried on. */
  stalled: number;
}

export class MemberWorkload {
  readonly counts: MemberWorkloadCounts = { vanished: 0, stalled: 0 };
  private issuing = true;
  /** Members may vanish or stall (until the heal: afterwards every partition must find a reader). */
  private faulty = true;
  private lives = 0;
  /** Members that have joined and not left or dropped out. */
  private readonly live = new Set<SimMember>();

  constructor(private readonly world: World, private readonly checker: MemberChecker, private readonly options: MemberWorkloadOptions) {}

  start(): void {
    for (let k = 0; k < this.options.members; k++) this.world.sched.after(this.world.rngs.workload.nextFloat() * 2_000, () => this.join());
  }

  stopIssuing(): void {
    this.issuing = false;
  }

  /** The heal phase began: no member vanishes or stalls any more. */
  healPhaseStarted(): void {
    this.faulty = false;
  }

  private join(): void {
    if (!this.issuing) return;
    const m: SimMember = { id: `member-${this.lives++}`, held: new Set(), lastAnsweredMs: this.world.now, sessionMs: 10_000, leaving: false, stalled: false };
    this.live.add(m);
    this.beat(m);
    this.world.sched.after(COMMIT_EVERY_MS, () => this.commitLoop(m));
  }

  /** One attempt at a random node; `onAnswer` with undefined if it timed out. */
  private call<T>(fn: (n: KeelNode, done: (r: T) => void) => void, onAnswer: (r: T | undefined) => void): void {
    keelCall(this.world, this.options, this.world.rngs.workload.pick(this.world.nodeIds) as NodeId, fn, onAnswer, () => onAnswer(undefined));
  }

  private topicId(n: KeelNode): number {
    return n.metadata.topics.get(this.options.topic.name)?.id ?? 0;
  }

  private beat(m: SimMember): void {
    const rng = this.world.rngs.workload;
    if ((!this.issuing || rng.chance(LEAVE_CHANCE_PER_BEAT)) && !m.leaving) return this.leave(m);
    if (this.faulty && rng.chance(VANISH_CHANCE_PER_BEAT)) return this.vanish(m);
    if (this.faulty && rng.chance(STALL_CHANCE_PER_BEAT)) return this.stall(m);
    const sentMs = this.world.now;
    const owned = [...m.held].sort((a, b) => a - b);
    this.call<AdminResult<HeartbeatAnswer>>((n, done) => n.memberHeartbeat({ group: this.options.group, memberId: m.id, topic: this.options.topic.name, topicId: this.topicId(n), owned }, done), (r) => {
      if (m.leaving) return;
      let nextMs = HEARTBEAT_MS;
      if (r?.ok === true) {
        m.lastAnsweredMs = sentMs;
        m.sessionMs = r.value.sessionTimeoutMs;
        this.checker.answered(m.id, sentMs, r.value.assigned);
        const assigned = new Set(r.value.assigned);
        for (const p of [...m.held]) {
          if (assigned.has(p)) continue;
          this.commit(m, p);
          this.letGo(m, p);
          nextMs = 50;
        }
        for (const p of assigned) m.held.add(p);
      } else if (r?.ok === false && r.error.code === 'UNKNOWN_MEMBER') {
        // Removed: a new life joins instead (as a restarted consumer would).
        return this.dropAndRejoin(m);
      } else if (this.world.now - m.lastAnsweredMs > m.sessionMs - SESSION_MARGIN_MS) {
        return this.dropAndRejoin(m);
      } else nextMs = 100;
      this.world.sched.after(nextMs, () => this.beat(m));
    });
  }

  private letGo(m: SimMember, p: number): void {
    m.held.delete(p);
    this.checker.released(m.id, p);
  }

  /** Partitions of the topic that no live member holds (after the heal, each should be held soon). */
  unheld(): number[] {
    const held = new Set([...this.live].flatMap((m) => [...m.held]));
    return Array.from({ length: this.options.topic.partitions }, (_, p) => p).filter((p) => !held.has(p));
  }

  private dropAndRejoin(m: SimMember): void {
    m.leaving = true;
    this.live.delete(m);
    for (const p of [...m.held]) this.letGo(m, p);
    this.world.sched.after(500, () => this.join());
  }

  /**
   * Gone without a word: no leave, no last commit, and no letting go (as far as the checker knows it
   * holds its partitions until its removal is applied). A new member joins a little later.
   */
  private vanish(m: SimMember): void {
    m.leaving = true;
    this.live.delete(m);
    this.counts.vanished++;
    this.world.sched.after(1_000 + this.world.rngs.workload.nextFloat() * 2_000, () => this.join());
  }

  /**
   * Sends nothing for longer than its session, then wakes up believing it still holds its partitions:
   * it commits them at once (a zombie's commits, refused if its removal was applied), then heartbeats
   * and learns that it is unknown. Its partitions count as unread meanwhile.
   */
  private stall(m: SimMember): void {
    m.stalled = true;
    this.live.delete(m);
    this.counts.stalled++;
    const stallMs = m.sessionMs + this.world.rngs.workload.nextFloat() * STALL_BEYOND_SESSION_MS_MAX;
    this.world.sched.after(stallMs, () => {
      m.stalled = false;
      this.live.add(m);
      for (const p of m.held) this.commit(m, p);
      this.beat(m);
    });
  }

  /** Leaves (after a last commit), and a new member joins a little later. */
  private leave(m: SimMember): void {
    m.leaving = true;
    this.live.delete(m);
    for (const p of [...m.held]) {
      this.commit(m, p);
      this.letGo(m, p);
    }
    this.call<AdminResult<HeartbeatAnswer>>((n, done) => n.memberHeartbeat({ group: this.options.group, memberId: m.id, topic: this.options.topic.name, topicId: this.topicId(n), owned: [], leave: true }, done), () => {});
    this.world.sched.after(1_000 + this.world.rngs.workload.nextFloat() * 2_000, () => this.join());
  }

  private commitLoop(m: SimMember): void {
    if (m.leaving || !this.issuing) return;
    if (!m.stalled) for (const p of m.held) this.commit(m, p);
    this.world.sched.after(COMMIT_EVERY_MS, () => this.commitLoop(m));
  }

  /** Commits a position for `p` (the time stands in for progress: it only grows). */
  private commit(m: SimMember, p: number): void {
    const sentMs = this.world.now;
    const offset = Math.floor(sentMs);
    this.call<AdminResult<unknown>>((n, done) => n.commitOffsets({ group: this.options.group, topic: this.options.topic.name, topicId: this.topicId(n), offsets: [{ partition: p, offset }], memberId: m.id }, done), (r) => {
      if (r !== undefined) this.checker.committed(m.id, p, sentMs, r.ok ? null : r.error.code);
    });
  }
}
