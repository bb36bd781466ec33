// Runs one seed of one scenario: fast-check generates the scenario's parameters and fault schedule from
// the seed (the same seed also drives the world's own randomness), the simulation runs, and if it fails
// fast-check shrinks the schedule to a minimal one that still fails. The result is what a seed file holds.
import fc from 'fast-check';
import type { ControllerPlantedBugs } from '../broker/controller-service.ts';
import type { PartitionPlantedBugs } from '../broker/partition/partition-machine.ts';
import type { NodePlantedBugs } from '../broker/disk-identity.ts';
import type { PlantedBugs } from '../raft/config.ts';
import { runKeel } from '../sim/keel-run.ts';
import { runRaft, type RunResult, type RunSpecBase } from '../sim/raft-run.ts';
import { DEFAULT_KNOBS, type Generated, type Scenario } from './catalog.ts';

/**
 * What runs in the simulated world: 'keel' is the whole system (controller quorum, partitions, clients of
 * both); 'raft' is one Raft group with a register state machine and a proposal workload (Raft-level runs).
 */
export type SystemUnderTest = 'keel' | 'raft';

export interface RunParams {
  readonly system: SystemUnderTest;
  /** Length of the fault (safety) phase. */
  readonly safetyMs: number;
  /** The heal phase: the cluster must recover and converge within it. */
  readonly healMs: number;
  readonly plantedBugs: PlantedBugs & ControllerPlantedBugs & PartitionPlantedBugs & NodePlantedBugs;
  readonly keepTraceLines: boolean;
  /** keel system: partitions of the data workload, split over topics d0 and d1 (default 6). */
  readonly dataPartitions?: number;
  /** keel system: reader sessions commit their progress as consumer groups (default true). */
  readonly groupCommits?: boolean;
}

/** How often each reader session of the keel runs commits its progress as a consumer group. */
const GROUP_COMMIT_EVERY_MS = 300;

/** Data partitions of the standard keel runs (d0 and d1, 3 each). */
export const DATA_PARTITIONS_DEFAULT = 6;

export const DEFAULT_PARAMS: RunParams = { system: 'keel', safetyMs: 10_000, healMs: 10_000, plantedBugs: {}, keepTraceLines: false };

export function runGenerated(seed: number, scenario: string, gen: Generated, params: RunParams): RunResult {
  const base: RunSpecBase = {
    seed,
    scenario,
    nodes: gen.nodes,
    voters: gen.voters,
    network: gen.network,
    disk: gen.disk,
    clock: gen.clock,
    schedule: gen.schedule,
    safetyMs: params.safetyMs,
    healMs: params.healMs,
    keepTraceLines: params.keepTraceLines,
  };
  if ((params.system ?? 'raft') === 'keel') {
    return runKeel({
      ...base,
      raftKnobs: { ...DEFAULT_KNOBS, ...gen.raft },
      plantedBugs: params.plantedBugs,
      dataTopics: dataTopics(params.dataPartitions ?? DATA_PARTITIONS_DEFAULT),
      producers: 4,
      groupCommitEveryMs: params.groupCommits === false ? 0 : GROUP_COMMIT_EVERY_MS,
    });
  }
  return runRaft({
    ...base,
    tickMs: 50,
    clients: { clients: 3, requestTimeoutMs: 3_000, thinkTimeMs: 40, linkDelayMs: 0.5 },
    raft: { ...DEFAULT_KNOBS, ...gen.raft },
    replica: { snapshotEveryEntries: 300, entriesKeptAfterSnapshot: 50, requestTimeoutTicks: 60 },
    plantedBugs: params.plantedBugs,
  });
}

/** d0 takes the larger half, d1 (the topic with tiny retention) the rest. */
function dataTopics(partitions: number): { name: string; partitions: number }[] {
  const d1 = Math.floor(partitions / 2);
  return [{ name: 'd0', partitions: partitions - d1 }, ...(d1 > 0 ? [{ name: 'd1', partitions: d1 }] : [])];
}

export interface SeedOutcome {
  readonly result: RunResult;
  readonly generated: Generated;
  /** For a failure: the smallest schedule found that still fails, and its result. */
  readonly shrunk?: { readonly generated: Generated; readonly result: RunResult; readonly runs: number };
}

/** The scenario's generated parameters for a seed (without running anything). */
export function generate(scenario: Scenario, seed: number, params: RunParams): Generated {
  const [g] = fc.sample(scenario.arbitrary(params.safetyMs), { seed, numRuns: 1 });
  if (g === undefined) throw new Error(`scenario ${scenario.name} generated nothing`);
  return g;
}

/**
 * Runs a seed; on failure, shrinks with fast-check for at most `shrinkRunsMax` extra runs (each is a full
 * simulation) and returns the smallest failing case found.
 */
export function runSeed(scenario: Scenario, seed: number, params: RunParams, shrinkRunsMax: number): SeedOutcome {
  const generated = generate(scenario, seed, params);
  const result = runGenerated(seed, scenario.name, generated, params);
  if (result.ok || shrinkRunsMax <= 0) return { result, generated };
  let runs = 0;
  let smallest: { generated: Generated; result: RunResult } = { generated, result };
  const size = (g: Generated): number => g.schedule.length;
  // Same seed, same arbitrary: fast-check's first value is `generated`, which it then shrinks.
  fc.check(fc.property(scenario.arbitrary(params.safetyMs), (g) => {
    if (runs >= shrinkRunsMax) return true; // budget spent: stop exploring
    runs++;
    const r = runGenerated(seed, scenario.name, g, params);
    if (!r.ok && (size(g) < size(smallest.generated) || runs === 1)) smallest = { generated: g, result: r };
    return r.ok;
  }), { seed, numRuns: 1 });
  return { result, generated, shrunk: { ...smallest, runs } };
}
