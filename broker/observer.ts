// Optional observation hooks on a node's Raft groups. The simulator's checkers implement them to watch
// every node's durable log, commit index and applied entries; the real runtime may use them for metrics.
// Hooks observe only: they must not call back into the node.
import type { Entry, Index, NodeId, RaftRole, SnapshotMeta, Term } from '../raft/types.ts';
import type { GroupId } from './ports.ts';

export interface RaftStateView {
  readonly term: Term;
  readonly role: RaftRole;
  readonly lead: NodeId;
  readonly commit: Index;
  /** Last index in this node's log, durable or not. */
  readonly lastIndex: Index;
}

export interface GroupObserver {
  /** The group's Raft state after a driver turn, when it changed. */
  raftState?(node: NodeId, group: GroupId, state: RaftStateView): void;
  /** Entries (and possibly a snapshot first) became durable on this node, in order. */
  persisted?(node: NodeId, group: GroupId, snapshot: SnapshotMeta | null, entries: readonly Entry[]): void;
  /** The log a node recovered from disk at start: a snapshot point and the entries after it. */
  recovered?(node: NodeId, group: GroupId, snapshot: SnapshotMeta, entries: readonly Entry[], commit: Index): void;
  /** A committed entry was applied to the state machine. */
  applied?(node: NodeId, group: GroupId, entry: Entry): void;
  /** The state machine was replaced by a snapshot's. */
  restored?(node: NodeId, group: GroupId, meta: SnapshotMeta): void;
  /** A group replica refused to start because its stored state is corrupt. */
  stepAside?(node: NodeId, group: GroupId, reason: string): void;
  /** A replica whose stored state was corrupt rejoined its group empty, fenced (node-host.ts). */
  repaired?(node: NodeId, group: GroupId): void;
}
