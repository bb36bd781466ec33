// Replica placement (controller/placement.ts): properties over random cluster sizes (1..9 brokers),
// replication factors (1..n), partition counts (1..60) and sequences of topic creations from an empty
// cluster, with brute-force references where the answer is a simple minimum.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placePartitions, replacementFor, type BrokerLoad } from '../../../controller/placement.ts';
import { nodeId, type NodeId } from '../../../raft/types.ts';
import { brokerIds, ids } from './support.ts';

const RUNS = 500;

/** A cluster of 1..9 brokers and a sequence of 1..8 topic creations, each (rf in 1..n, partitions in 1..60). */
const clusterAndTopics = fc.integer({ min: 1, max: 9 }).chain((n) => fc.record({
  n: fc.constant(n),
  topics: fc.array(fc.record({ rf: fc.integer({ min: 1, max: n }), partitions: fc.integer({ min: 1, max: 60 }) }), { minLength: 1, maxLength: 8 }),
}));

/** Adds an assignment to a load map (the first replica is the preferred leader), as the metadata state counts it. */
function addLoad(load: Map<NodeId, BrokerLoad>, assignment: readonly (readonly NodeId[])[]): void {
  for (const replicas of assignment) {
    replicas.forEach((b, k) => {
      const x = load.get(b) ?? { replicas: 0, leaders: 0 };
      x.replicas++;
      if (k === 0) x.leaders++;
      load.set(b, x);
    });
  }
}

function spread(brokers: readonly NodeId[], load: ReadonlyMap<NodeId, BrokerLoad>, field: keyof BrokerLoad): number {
  const xs = brokers.map((b) => load.get(b)?.[field] ?? 0);
  return Math.max(...xs) - Math.min(...xs);
}

/** Creates the topics one after another from an empty cluster; calls `check` after each. */
function createAll(n: number, topics: readonly { rf: number; partitions: number }[], check: (assignment: NodeId[][], load: Map<NodeId, BrokerLoad>, rf: number, partitions: number) => void): Map<NodeId, BrokerLoad> {
  const brokers = brokerIds(n);
  const load = new Map<NodeId, BrokerLoad>();
  for (const { rf, partitions } of topics) {
    const assignment = placePartitions(brokers, load, partitions, rf);
    addLoad(load, assignment);
    check(assignment, load, rf, partitions);
  }
  return load;
}

describe('placePartitions', () => {
  it('places one partition per requested partition', () => {
    expect(placePartitions(brokerIds(3), new Map(), 7, 2)).toHaveLength(7);
  });

  it('spreads an empty, equally loaded cluster partition by partition', () => {
    expect(placePartitions(brokerIds(3), new Map(), 3, 1)).toEqual([ids(1), ids(2), ids(3)]);
    expect(placePartitions(brokerIds(3), new Map(), 3, 3).map((r) => r[0])).toEqual(ids(1, 2, 3));
  });

  it('puts new replicas on the least-loaded brokers', () => {
    const load = new Map<NodeId, BrokerLoad>([[nodeId(1), { replicas: 5, leaders: 5 }], [nodeId(2), { replicas: 5, leaders: 5 }], [nodeId(3), { replicas: 0, leaders: 0 }]]);
    expect(placePartitions(brokerIds(3), load, 1, 1)).toEqual([ids(3)]);
  });

  it('counts brokers missing from the load as empty', () => {
    const load = new Map<NodeId, BrokerLoad>([[nodeId(1), { replicas: 1, leaders: 1 }]]);
    expect(placePartitions(brokerIds(2), load, 1, 1)).toEqual([ids(2)]);
  });

  it('ignores the order the eligible brokers are given in', () => {
    expect(placePartitions(ids(3, 1, 2), new Map(), 6, 2)).toEqual(placePartitions(ids(1, 2, 3), new Map(), 6, 2));
  });

  it('does not modify the load it is given', () => {
    const load = new Map<NodeId, BrokerLoad>([[nodeId(1), { replicas: 2, leaders: 1 }]]);
    placePartitions(brokerIds(3), load, 10, 2);
    expect([...load]).toEqual([[nodeId(1), { replicas: 2, leaders: 1 }]]);
  });

  it('ignores load of brokers that are not eligible', () => {
    const load = new Map<NodeId, BrokerLoad>([[nodeId(9), { replicas: 0, leaders: 0 }], [nodeId(1), { replicas: 3, leaders: 3 }]]);
    for (const replicas of placePartitions(ids(1, 2), load, 4, 1)) expect(ids(1, 2)).toContain(replicas[0]);
  });

  it('zero partitions place nothing', () => {
    expect(placePartitions(brokerIds(3), new Map(), 0, 3)).toEqual([]);
  });

  it.each([[0, 3], [4, 3], [1, 0], [-1, 3]])('throws a RangeError for rf %d on %d brokers', (rf, n) => {
    expect(() => placePartitions(brokerIds(n), new Map(), 1, rf)).toThrow(RangeError);
  });

  it('property (a): no broker appears twice in a partition, and (b): exactly rf replicas, all eligible', () => {
    fc.assert(fc.property(clusterAndTopics, ({ n, topics }) => {
      const brokers = brokerIds(n);
      createAll(n, topics, (assignment, _load, rf, partitions) => {
        expect(assignment).toHaveLength(partitions);
        const bad = assignment.filter((replicas) => replicas.length !== rf || new Set(replicas).size !== rf || !replicas.every((r) => brokers.includes(r)));
        expect(bad).toEqual([]);
      });
    }), { numRuns: RUNS });
  });

  it('property (c): deterministic — the same inputs give the same output', () => {
    fc.assert(fc.property(clusterAndTopics, ({ n, topics }) => {
      const a: NodeId[][][] = [];
      const b: NodeId[][][] = [];
      createAll(n, topics, (assignment) => a.push(assignment));
      createAll(n, topics, (assignment) => b.push(assignment));
      expect(a).toEqual(b);
    }), { numRuns: RUNS });
  });

  it('property (d): from empty, per-broker replica counts stay within max - min <= 1 after every creation', () => {
    fc.assert(fc.property(clusterAndTopics, ({ n, topics }) => {
      createAll(n, topics, (_assignment, load) => {
        expect(spread(brokerIds(n), load, 'replicas')).toBeLessThanOrEqual(1);
      });
    }), { numRuns: RUNS });
  });

  it('property (d\'): from any replica-balanced start (leaders arbitrary), replica counts stay within one', () => {
    const start = fc.integer({ min: 1, max: 9 }).chain((n) => fc.record({
      n: fc.constant(n),
      base: fc.nat({ max: 50 }),
      bumps: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      leaders: fc.array(fc.nat({ max: 50 }), { minLength: n, maxLength: n }),
      rf: fc.integer({ min: 1, max: n }),
      partitions: fc.integer({ min: 1, max: 60 }),
    }));
    fc.assert(fc.property(start, ({ n, base, bumps, leaders, rf, partitions }) => {
      const brokers = brokerIds(n);
      const load = new Map<NodeId, BrokerLoad>(brokers.map((b, k) => [b, { replicas: base + (bumps[k] === true ? 1 : 0), leaders: leaders[k] ?? 0 }]));
      const assignment = placePartitions(brokers, load, partitions, rf);
      addLoad(load, assignment);
      expect(spread(brokers, load, 'replicas')).toBeLessThanOrEqual(1);
    }), { numRuns: RUNS });
  });

  it('each partition takes rf of the brokers with the fewest replicas (brute-force reference)', () => {
    fc.assert(fc.property(clusterAndTopics, ({ n, topics }) => {
      const brokers = brokerIds(n);
      const load = new Map<NodeId, BrokerLoad>();
      for (const { rf, partitions } of topics) {
        for (const replicas of placePartitions(brokers, load, partitions, rf)) {
          // No broker left out has fewer replicas than a broker chosen.
          const count = (b: NodeId): number => load.get(b)?.replicas ?? 0;
          const chosenMax = Math.max(...replicas.map(count));
          const lighterLeftOut = brokers.filter((b) => !replicas.includes(b) && count(b) < chosenMax);
          if (lighterLeftOut.length > 0) expect({ replicas, lighterLeftOut }).toBeUndefined();
          addLoad(load, [replicas]);
        }
      }
    }), { numRuns: RUNS });
  });

  // (e) Preferred-leader balance. Measured over every (n in 1..9, rf in 1..n, partitions in 1..60) for a
  // single topic, and over random and exhaustive small sequences: the leader spread stays <= 1 when every
  // topic uses rf = 1 or rf = n; for a single topic it also holds for rf = n - 1 and on 1..3 brokers.
  // It held for every sequence tried so far, including the counterexamples below that an earlier, simpler
  // greedy got wrong (replicas first, then leaders among them, then followers that already lead the most).
  it('property (e): leader counts stay within one when every topic uses rf = 1, or every topic rf = n', () => {
    const arb = fc.integer({ min: 1, max: 9 }).chain((n) => fc.record({
      n: fc.constant(n),
      rf: fc.constantFrom(1, n),
      partitions: fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 8 }),
    }));
    fc.assert(fc.property(arb, ({ n, rf, partitions }) => {
      createAll(n, partitions.map((p) => ({ rf, partitions: p })), (_assignment, load) => {
        expect(spread(brokerIds(n), load, 'leaders')).toBeLessThanOrEqual(1);
      });
    }), { numRuns: RUNS });
  });

  it('(e): a single topic with rf = n - 1 has leader counts within one (every n in 2..9, partitions in 1..60)', () => {
    const wider: { n: number; partitions: number; spread: number }[] = [];
    for (let n = 2; n <= 9; n++) {
      for (let partitions = 1; partitions <= 60; partitions++) {
        const load = createAll(n, [{ rf: n - 1, partitions }], () => {});
        const s = spread(brokerIds(n), load, 'leaders');
        if (s > 1) wider.push({ n, partitions, spread: s });
      }
    }
    expect(wider).toEqual([]);
  });

  it('property (e): a single topic on 1..3 brokers has leader counts within one', () => {
    const arb = fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n }), fc.integer({ min: 1, max: 60 })));
    fc.assert(fc.property(arb, ([n, rf, partitions]) => {
      createAll(n, [{ rf, partitions }], (_assignment, load) => {
        expect(spread(brokerIds(n), load, 'leaders')).toBeLessThanOrEqual(1);
      });
    }), { numRuns: RUNS });
  });

  it('(e) preferred leader is the chosen replica with the fewest leaderships', () => {
    fc.assert(fc.property(clusterAndTopics, ({ n, topics }) => {
      const brokers = brokerIds(n);
      const load = new Map<NodeId, BrokerLoad>();
      for (const { rf, partitions } of topics) {
        for (const replicas of placePartitions(brokers, load, partitions, rf)) {
          const leaders = (b: NodeId): number => load.get(b)?.leaders ?? 0;
          const fewest = Math.min(...replicas.map(leaders));
          if (leaders(replicas[0] as NodeId) !== fewest) expect({ replicas, leaderships: replicas.map(leaders) }).toBeUndefined();
          addLoad(load, [replicas]);
        }
      }
    }), { numRuns: RUNS });
  });

  // FINDING (2e), reported, not fixed: placement.ts's header says leaderships "are balanced the same way
  // where the replica choice allows it", but the greedy choice leaves the leader spread at 2 (up to 3
  // measured) even where a placement exists with replica counts AND leader counts within one.
  //   4 brokers, one topic rf=2 x 4 partitions -> [[1,2],[3,4],[4,2],[1,3]]: leaders {1:2, 2:0, 3:1, 4:1}.
  //     Balanced alternative with the same replica counts: [[1,2],[3,4],[2,1],[4,3]].
  //   3 brokers, topics (rf=3 x1), (rf=2 x1), (rf=1 x1) -> [[1,2,3]], [[2,3]], [[1]]: leaders {1:2, 2:1, 3:0}.
  //     Alternative: [[1,2,3]], [[3,1]], [[2]] -> leaders {1:1, 2:1, 3:1}, replicas {2,2,2}.
  //   2 brokers, topics (rf=1 x1), (rf=2 x2), (rf=1 x1) -> leaders {1:1, 2:3}. Alternative: the rf=2
  //     topic's second partition led by broker 1 -> leaders {1:2, 2:2}.
  //   3 brokers, three topics rf=2 x2 each (rf = n - 1 throughout) -> leaders {1:2, 2:3, 3:1}.
  //     Alternative: [[1,2],[2,3]], [[3,1],[1,2]], [[2,3],[3,1]] -> replicas 4 each, leaders 2 each.
  //   8 brokers, one topic rf=2 x 12 partitions -> leaders {1,2,2,1,1,2,3,0}: spread 3.
  describe('(e) leader balance where a balanced placement exists', () => {
    it('property: from empty, any sequence of topics keeps both replica and leader spreads <= 1', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 9 }), fc.array(fc.record({ rf: fc.integer({ min: 1, max: 9 }), partitions: fc.integer({ min: 1, max: 30 }) }), { minLength: 1, maxLength: 8 }), (n, topics) => {
        createAll(n, topics.map((t) => ({ rf: Math.min(t.rf, n), partitions: t.partitions })), (_assignment, load) => {
          expect(spread(brokerIds(n), load, 'replicas')).toBeLessThanOrEqual(1);
          expect(spread(brokerIds(n), load, 'leaders')).toBeLessThanOrEqual(1);
        });
      }), { numRuns: 5_000 });
    });

    it.each([
      ['4 brokers, rf=2 x4', 4, [{ rf: 2, partitions: 4 }]],
      ['3 brokers, rf=3 x1 then rf=2 x1 then rf=1 x1', 3, [{ rf: 3, partitions: 1 }, { rf: 2, partitions: 1 }, { rf: 1, partitions: 1 }]],
      ['2 brokers, rf=1 x1 then rf=2 x2 then rf=1 x1', 2, [{ rf: 1, partitions: 1 }, { rf: 2, partitions: 2 }, { rf: 1, partitions: 1 }]],
      ['3 brokers, rf=2 x2 three times', 3, [{ rf: 2, partitions: 2 }, { rf: 2, partitions: 2 }, { rf: 2, partitions: 2 }]],
      ['8 brokers, rf=2 x12', 8, [{ rf: 2, partitions: 12 }]],
    ] as const)('%s: leader spread <= 1', (_name, n, topics) => {
      createAll(n, topics, (_assignment, load) => {
        expect(spread(brokerIds(n), load, 'leaders')).toBeLessThanOrEqual(1);
      });
    });
  });
});

describe('replacementFor', () => {
  /** Brute-force reference: every candidate, then the one with the fewest replicas, lowest id on ties. */
  function reference(replicas: readonly NodeId[], leaving: NodeId, eligible: readonly NodeId[], load: ReadonlyMap<NodeId, BrokerLoad>): NodeId | undefined {
    let best: NodeId | undefined;
    for (const b of eligible) {
      if (replicas.includes(b) || b === leaving) continue;
      const lb = load.get(b)?.replicas ?? 0;
      const lbest = best === undefined ? Infinity : load.get(best)?.replicas ?? 0;
      if (lb < lbest || (lb === lbest && best !== undefined && b < best)) best = b;
    }
    return best;
  }

  it('picks the least-loaded eligible broker not already in the set', () => {
    const load = new Map<NodeId, BrokerLoad>([[nodeId(4), { replicas: 3, leaders: 0 }], [nodeId(5), { replicas: 1, leaders: 0 }], [nodeId(6), { replicas: 2, leaders: 0 }]]);
    expect(replacementFor(ids(1, 2, 3), nodeId(3), ids(1, 2, 3, 4, 5, 6), load)).toBe(nodeId(5));
  });

  it('breaks ties by the lowest id, whatever order the eligible brokers come in', () => {
    expect(replacementFor(ids(1, 2), nodeId(2), ids(6, 5, 4, 1, 2), new Map())).toBe(nodeId(4));
  });

  it('never picks the leaving broker, even when it is eligible and not in the set', () => {
    expect(replacementFor(ids(1, 2), nodeId(3), ids(1, 2, 3), new Map())).toBeUndefined();
  });

  it('returns undefined when every eligible broker already holds a replica', () => {
    expect(replacementFor(ids(1, 2, 3), nodeId(3), ids(1, 2, 3), new Map())).toBeUndefined();
    expect(replacementFor(ids(1), nodeId(1), [], new Map())).toBeUndefined();
  });

  it('counts brokers missing from the load as empty', () => {
    const load = new Map<NodeId, BrokerLoad>([[nodeId(4), { replicas: 1, leaders: 0 }]]);
    expect(replacementFor(ids(1, 2, 3), nodeId(1), ids(4, 5), load)).toBe(nodeId(5));
  });

  it('property: agrees with the brute-force reference', () => {
    const arb = fc.record({
      replicas: fc.uniqueArray(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 }),
      eligible: fc.uniqueArray(fc.integer({ min: 1, max: 9 }), { maxLength: 9 }),
      loads: fc.array(fc.nat({ max: 4 }), { minLength: 9, maxLength: 9 }),
      leavingPick: fc.nat(),
    });
    fc.assert(fc.property(arb, ({ replicas, eligible, loads, leavingPick }) => {
      const load = new Map<NodeId, BrokerLoad>(loads.map((r, k) => [nodeId(k + 1), { replicas: r, leaders: 0 }]));
      const leaving = nodeId(replicas[leavingPick % replicas.length] as number);
      const got = replacementFor(ids(...replicas), leaving, ids(...eligible), load);
      expect(got).toBe(reference(ids(...replicas), leaving, ids(...eligible), load));
      if (got !== undefined) {
        expect(eligible).toContain(got);
        expect(replicas).not.toContain(got);
      }
    }), { numRuns: 2_000 });
  });
});
