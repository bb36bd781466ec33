// Replica placement: deterministic given the same inputs. Each new partition takes the `rf` brokers
// holding the fewest replicas (ties: fewer preferred leaderships, then a rotation by partition number,
// so equally loaded clusters spread partition by partition), and its preferred leader — the first
// replica — is the chosen broker with the fewest preferred leaderships. From a balanced start the replica
// counts stay within one of each other (max - min <= 1); leaderships are balanced the same way where the
// replica choice allows it. No broker ever holds two replicas of one partition.
import type { NodeId } from '../raft/types.ts';

export interface BrokerLoad {
  replicas: number;
  leaders: number;
}

/** Current load of the eligible brokers; brokers missing from `load` count as empty. */
export function placePartitions(eligible: readonly NodeId[], load: ReadonlyMap<NodeId, BrokerLoad>, partitions: number, rf: number): NodeId[][] {
  const brokers = [...eligible].sort((a, b) => a - b);
  if (rf < 1 || rf > brokers.length) throw new RangeError(`cannot place ${rf} replicas on ${brokers.length} brokers`);
  const l = new Map<NodeId, BrokerLoad>();
  for (const b of brokers) l.set(b, { ...(load.get(b) ?? { replicas: 0, leaders: 0 }) });
  const n = brokers.length;
  const out: NodeId[][] = [];
  for (let p = 0; p < partitions; p++) {
    const rank = (b: NodeId): number => (brokers.indexOf(b) - p + n * 1_000_000) % n;
    const order = [...brokers].sort((a, b) => {
      const la = l.get(a) as BrokerLoad;
      const lb = l.get(b) as BrokerLoad;
      return la.replicas - lb.replicas || la.leaders - lb.leaders || rank(a) - rank(b);
    });
    const chosen = order.slice(0, rf);
    const leader = [...chosen].sort((a, b) => (l.get(a) as BrokerLoad).leaders - (l.get(b) as BrokerLoad).leaders || rank(a) - rank(b))[0] as NodeId;
    const replicas = [leader, ...chosen.filter((b) => b !== leader)];
    for (const b of replicas) (l.get(b) as BrokerLoad).replicas++;
    (l.get(leader) as BrokerLoad).leaders++;
    out.push(replicas);
  }
  return out;
}

/** A replacement for `leaving` in a replica set: the least-loaded eligible broker not already in it. */
export function replacementFor(replicas: readonly NodeId[], leaving: NodeId, eligible: readonly NodeId[], load: ReadonlyMap<NodeId, BrokerLoad>): NodeId | undefined {
  const candidates = eligible.filter((b) => !replicas.includes(b) && b !== leaving).sort((a, b) => {
    const la = load.get(a)?.replicas ?? 0;
    const lb = load.get(b)?.replicas ?? 0;
    return la - lb || a - b;
  });
  return candidates[0];
}
