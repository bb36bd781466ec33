// Replica placement: deterministic given the same inputs. Replica counts come first: each new
// partition takes its replicas from the brokers holding the fewest (from a balanced start the counts stay
// within one of each other, max - min <= 1). Within that, leaderships: the preferred leader (first replica)
// is the chosen broker with the fewest preferred leaderships, and the follower slots go to brokers that
// already lead the most, keeping low-leader brokers free to lead later partitions. Ties rotate with the
// partition number so equally loaded clusters spread partition by partition. No broker ever holds two
// replicas of one partition. Both spreads stay within one over any sequence of topic creations from an
// empty cluster (property-tested in tests/unit/controller/placement.test.ts).
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
  const of = (b: NodeId): BrokerLoad => l.get(b) as BrokerLoad;
  for (let p = 0; p < partitions; p++) {
    const rank = (b: NodeId): number => (brokers.indexOf(b) - p + n * 1_000_000) % n;
    // Replica tiers: fewest replicas first. The set is the whole lower tiers plus part of the last one.
    const byReplicas = [...brokers].sort((a, b) => of(a).replicas - of(b).replicas || rank(a) - rank(b));
    const cut = of(byReplicas[rf - 1] as NodeId).replicas;
    const sure = byReplicas.filter((b) => of(b).replicas < cut);
    const tier = byReplicas.filter((b) => of(b).replicas === cut);
    // The leader: the fewest leaderships among everything that may be in the set; on a tie, the broker
    // holding more replicas (it will receive fewer future partitions, so fewer chances to lead later).
    const candidates = [...sure, ...tier];
    const leader = [...candidates].sort((a, b) => of(a).leaders - of(b).leaders || of(b).replicas - of(a).replicas || rank(a) - rank(b))[0] as NodeId;
    const chosen = new Set<NodeId>([leader]);
    for (const b of sure) if (chosen.size < rf) chosen.add(b);
    // Follower slots from the last tier: brokers that already lead the most.
    const rest = tier.filter((b) => !chosen.has(b)).sort((a, b) => of(b).leaders - of(a).leaders || rank(a) - rank(b));
    for (const b of rest) if (chosen.size < rf) chosen.add(b);
    const replicas = [leader, ...[...chosen].filter((b) => b !== leader)];
    for (const b of replicas) of(b).replicas++;
    of(leader).leaders++;
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
