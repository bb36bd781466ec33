// Majority-quorum arithmetic over one voter set (etcd's quorum/majority.go, in our words).
// Pure functions; property-tested against a brute-force reference in tests/unit/quorum.test.ts.
import type { Index, NodeId } from '../types.ts';

/** Returns a voter's acknowledged (durable) index, or undefined when nothing is known for it. */
export type AckedIndexer = (id: NodeId) => Index | undefined;

export type VoteResult = 'won' | 'lost' | 'pending';

/** An empty voter set commits everything: it never holds back a joint configuration's other half. */
export const COMMIT_UNBOUNDED = Number.MAX_SAFE_INTEGER as Index;

const scratch: number[] = [];

/**
 * The largest index acknowledged by a majority of `voters` (Raft §5.3: "replicated it on a majority").
 * Voters with no known acknowledgement count as 0.
 */
export function majorityCommitted(voters: ReadonlySet<NodeId>, acked: AckedIndexer): Index {
  const n = voters.size;
  if (n === 0) return COMMIT_UNBOUNDED;
  // Insertion sort, descending, into a reused array: the leader runs this on every acknowledgement,
  // and voter sets are a handful of members (a sort with a comparator would allocate each time).
  const indexes = scratch;
  let len = 0;
  for (const id of voters) {
    const v = acked(id) ?? 0;
    let i = len++;
    while (i > 0 && (indexes[i - 1] as number) < v) {
      indexes[i] = indexes[i - 1] as number;
      i--;
    }
    indexes[i] = v;
  }
  // Sorted descending, the element at position (quorum - 1) is acknowledged by at least a quorum.
  const quorum = Math.floor(n / 2) + 1;
  return indexes[quorum - 1] as Index;
}

/**
 * Outcome of an election among `voters` given the votes received so far (true = granted).
 * An empty voter set wins, so a joint config with an empty outgoing half is decided by the incoming one.
 */
export function majorityVoteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const n = voters.size;
  if (n === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const quorum = Math.floor(n / 2) + 1;
  if (granted >= quorum) return 'won';
  if (granted + missing >= quorum) return 'pending';
  return 'lost';
}
