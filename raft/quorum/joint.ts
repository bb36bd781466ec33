// Joint-consensus quorum (Raft thesis §4.3): a decision needs a majority of the incoming voters
// AND a majority of the outgoing voters. Outside a joint change `outgoing` is empty and drops out.
import type { Index, NodeId } from '../types.ts';
import { majorityCommitted, majorityVoteResult, type AckedIndexer, type VoteResult } from './majority.ts';

export interface JointVoters {
  readonly incoming: ReadonlySet<NodeId>;
  readonly outgoing: ReadonlySet<NodeId>;
}

export function jointCommitted(voters: JointVoters, acked: AckedIndexer): Index {
  const a = majorityCommitted(voters.incoming, acked);
  const b = majorityCommitted(voters.outgoing, acked);
  return (a < b ? a : b) as Index;
}

export function jointVoteResult(voters: JointVoters, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const a = majorityVoteResult(voters.incoming, votes);
  const b = majorityVoteResult(voters.outgoing, votes);
  if (a === b) return a;
  if (a === 'lost' || b === 'lost') return 'lost';
  return 'pending';
}

/** Every voter of either half, each once, in ascending order (deterministic iteration). */
export function jointVoterIds(voters: JointVoters): NodeId[] {
  const all = new Set<NodeId>([...voters.incoming, ...voters.outgoing]);
  return [...all].sort((x, y) => x - y);
}

export function isJoint(voters: JointVoters): boolean {
  return voters.outgoing.size > 0;
}
