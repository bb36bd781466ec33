// The leader's bookkeeping of the whole group (etcd's tracker/tracker.go): the active membership
// configuration, one Progress per member, and the votes of the election in progress.
import { assert } from '../assert.ts';
import { isJoint, jointCommitted, jointVoteResult, jointVoterIds, type JointVoters } from '../quorum/joint.ts';
import type { VoteResult } from '../quorum/majority.ts';
import type { ConfState, Index, NodeId } from '../types.ts';
import type { Progress } from './progress.ts';

/**
 * A membership configuration.
 * Invariants: learners ∩ (incoming ∪ outgoing) = ∅ except that learnersNext ⊆ outgoing;
 * learnersNext is empty outside a joint configuration.
 */
export interface TrackerConfig {
  readonly voters: JointVoters;
  readonly learners: ReadonlySet<NodeId>;
  /** Outgoing voters that turn into learners when the joint configuration is left. */
  readonly learnersNext: ReadonlySet<NodeId>;
  /** Leave the joint configuration automatically once it is committed. */
  readonly autoLeave: boolean;
}

export const EMPTY_TRACKER_CONFIG: TrackerConfig = {
  voters: { incoming: new Set(), outgoing: new Set() },
  learners: new Set(),
  learnersNext: new Set(),
  autoLeave: false,
};

const sorted = (s: ReadonlySet<NodeId>): NodeId[] => [...s].sort((a, b) => a - b);

export function confStateOf(cfg: TrackerConfig): ConfState {
  return {
    voters: sorted(cfg.voters.incoming),
    learners: sorted(cfg.learners),
    votersOutgoing: sorted(cfg.voters.outgoing),
    learnersNext: sorted(cfg.learnersNext),
    autoLeave: cfg.autoLeave,
  };
}

export class ProgressTracker {
  config: TrackerConfig = EMPTY_TRACKER_CONFIG;
  /** One entry per member of the configuration (voters of both halves and learners). */
  progress = new Map<NodeId, Progress>();
  /** Votes received in the current election: true = granted. */
  readonly votes = new Map<NodeId, boolean>();

  constructor(
    readonly inflightMessagesMax: number,
    readonly inflightBytesMax: number,
  ) {}

  /** Largest index committed by the configuration, from the followers' match indexes (Raft §5.3, §4.3). */
  committed(): Index {
    return jointCommitted(this.config.voters, (id) => this.progress.get(id)?.match);
  }

  isJoint(): boolean {
    return isJoint(this.config.voters);
  }

  /** Voter ids in ascending order; the iteration order of every send loop (determinism). */
  voterIds(): NodeId[] {
    return jointVoterIds(this.config.voters);
  }

  /** Every member in ascending id order (cached: recomputed when the configuration changes). */
  memberIds(): readonly NodeId[] {
    if (this.memberIdsCache === null) this.memberIdsCache = [...this.progress.keys()].sort((a, b) => a - b);
    return this.memberIdsCache;
  }

  private memberIdsCache: NodeId[] | null = null;

  isVoter(id: NodeId): boolean {
    return this.config.voters.incoming.has(id) || this.config.voters.outgoing.has(id);
  }

  /** Can this node become leader? Only a voter can (a learner never campaigns). */
  isPromotable(id: NodeId): boolean {
    const pr = this.progress.get(id);
    return pr !== undefined && !pr.isLearner && this.isVoter(id);
  }

  /** True if the only voter is `id` (a one-node group commits on its own). */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  /**
   * Check-quorum (Raft thesis §6.2): has a quorum been heard from in the last election timeout?
   * The leader counts itself as active.
   */
  quorumActive(self: NodeId): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      votes.set(id, id === self || pr.recentActive);
    }
    return jointVoteResult(this.config.voters, votes) === 'won';
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) };
  }

  resetVotes(): void {
    this.votes.clear();
  }

  confState(): ConfState {
    return confStateOf(this.config);
  }

  /** Installs a configuration and its progress map (built by confchange.ts). */
  apply(config: TrackerConfig, progress: Map<NodeId, Progress>): void {
    for (const id of config.learners) assert(!config.voters.incoming.has(id), `node ${id} is a learner and an incoming voter`);
    this.config = config;
    this.progress = progress;
    this.memberIdsCache = null;
  }
}
