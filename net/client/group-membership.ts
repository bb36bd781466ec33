// A consumer's membership of its group (for a reader that follows every partition of a topic as a
// group): it joins owning nothing, heartbeats what it reads, and learns from each answer which
// partitions it may read. The controller splits the topic's partitions between the members and hands
// a partition over only once its old owner let go of it (controller/group-members.ts), so the caller
// must, for every partition an answer takes away, stop reading it and commit its progress before the
// next heartbeat reports it gone. Heard nothing for a whole session (or told it is unknown), the member
// assumes it was removed: it drops everything and joins again, owning nothing.
import { sleep, type ClientEnv } from './env.ts';
import { isKeelError } from './errors.ts';

/** A heartbeat as the wire carries it. */
export interface MemberHeartbeatRequest {
  readonly groupId: string;
  readonly memberId: string;
  readonly topic: string;
  readonly topicId: number;
  readonly owned: readonly number[];
  readonly leave: boolean;
}

export interface MemberHeartbeatAnswer {
  readonly assigned: readonly number[];
  readonly pending: readonly number[];
  readonly members: number;
  readonly heartbeatIntervalMs: number;
  readonly sessionTimeoutMs: number;
}

export interface MembershipHost {
  readonly env: ClientEnv;
  memberHeartbeat(request: MemberHeartbeatRequest): Promise<MemberHeartbeatAnswer>;
}

/** What an answer changes: partitions to start reading and partitions to let go of. */
export interface AssignmentChange {
  readonly gained: readonly number[];
  readonly lost: readonly number[];
  /** The member was removed (or must assume so): its commits of `lost` would be refused. */
  readonly removed?: boolean;
}

/** Until the first answer says otherwise. */
const HEARTBEAT_MS_DEFAULT = 1_000;
const SESSION_MS_DEFAULT = 10_000;
/**
 * Silent this much less than a session, the member assumes it was removed: the coordinator's clock may
 * run a little faster than ours, and its partitions must be let go of before another member gets them.
 */
const SESSION_MARGIN_HEARTBEATS = 2;
/** After letting go of partitions, the next heartbeat goes this soon (their new owner is waiting). */
const RELEASE_REPORT_MS = 20;
/** While partitions of its share are still another member's, the next heartbeat goes at most this late. */
const PENDING_POLL_MS = 200;

export class GroupMembership {
  /** Partitions this member reads now. */
  private readonly held = new Set<number>();
  private heartbeatMs = HEARTBEAT_MS_DEFAULT;
  private sessionMs = SESSION_MS_DEFAULT;
  private lastAnswerMs: number;
  private nextBeatMs: number;

  constructor(
    private readonly host: MembershipHost,
    readonly group: string,
    private readonly topic: string,
    private readonly topicId: number,
    readonly memberId: string,
  ) {
    this.lastAnswerMs = host.env.now();
    this.nextBeatMs = this.lastAnswerMs;
  }

  holds(partition: number): boolean {
    return this.held.has(partition);
  }

  /** The caller started reading `partition` (one of an answer's gains). */
  hold(partition: number): void {
    this.held.add(partition);
  }

  /** The caller stopped reading `partition` and committed its progress: the next heartbeat, soon, says so. */
  release(partition: number): void {
    if (!this.held.delete(partition)) return;
    this.nextBeatMs = Math.min(this.nextBeatMs, this.host.env.now() + RELEASE_REPORT_MS);
  }

  /** Waits until the next heartbeat is due (or `signal` aborts), sends it, and says what changed. */
  async next(signal: AbortSignal): Promise<AssignmentChange> {
    await sleep(this.host.env, Math.max(0, this.nextBeatMs - this.host.env.now()), signal);
    if (signal.aborted) return { gained: [], lost: [] };
    return this.beat();
  }

  /** One heartbeat now. A failure longer than a session, or UNKNOWN_MEMBER, loses everything held. */
  async beat(): Promise<AssignmentChange> {
    const now = this.host.env.now();
    this.nextBeatMs = now + this.heartbeatMs;
    let answer: MemberHeartbeatAnswer;
    try {
      answer = await this.host.memberHeartbeat(this.request(false));
    } catch (e) {
      const removed = isKeelError(e) && e.code === 'UNKNOWN_MEMBER';
      const silentMaxMs = Math.max(this.heartbeatMs, this.sessionMs - SESSION_MARGIN_HEARTBEATS * this.heartbeatMs);
      if (!removed && this.host.env.now() - this.lastAnswerMs < silentMaxMs) throw e;
      // Removed, or as good as: another member may read these partitions by now.
      this.lastAnswerMs = this.host.env.now();
      this.nextBeatMs = this.lastAnswerMs;
      return { gained: [], lost: [...this.held].sort((a, b) => a - b), removed: true };
    }
    this.lastAnswerMs = now;
    this.heartbeatMs = answer.heartbeatIntervalMs > 0 ? answer.heartbeatIntervalMs : HEARTBEAT_MS_DEFAULT;
    this.sessionMs = answer.sessionTimeoutMs > 0 ? answer.sessionTimeoutMs : SESSION_MS_DEFAULT;
    this.nextBeatMs = now + (answer.pending.length > 0 ? Math.min(this.heartbeatMs, PENDING_POLL_MS) : this.heartbeatMs);
    const assigned = new Set(answer.assigned);
    return {
      gained: [...assigned].filter((p) => !this.held.has(p)).sort((a, b) => a - b),
      lost: [...this.held].filter((p) => !assigned.has(p)).sort((a, b) => a - b),
    };
  }

  /** Leaves the group (after the caller committed): its partitions go to the others at once. Best effort. */
  async leave(): Promise<void> {
    this.held.clear();
    await this.host.memberHeartbeat(this.request(true)).catch(() => {});
  }

  private request(leave: boolean): MemberHeartbeatRequest {
    return { groupId: this.group, memberId: this.memberId, topic: this.topic, topicId: this.topicId, owned: [...this.held].sort((a, b) => a - b), leave };
  }
}
