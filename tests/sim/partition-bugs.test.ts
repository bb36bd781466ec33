// Planted partition bugs (test-only switches, broker/partition/partition-machine.ts PartitionPlantedBugs)
// must be caught by the full-system sweep within 300 seeds.
import { describe, expect, it } from 'vitest';
import type { PartitionPlantedBugs } from '../../broker/partition/partition-machine.ts';
import { SCENARIOS, type Scenario } from '../../scenarios/catalog.ts';
import { DEFAULT_PARAMS, runSeed } from '../../scenarios/runner.ts';

function firstFailure(bug: PartitionPlantedBugs): string | undefined {
  for (let seed = 1; seed <= 300; seed++) {
    const scenario = SCENARIOS[seed % SCENARIOS.length] as Scenario;
    const r = runSeed(scenario, seed, { ...DEFAULT_PARAMS, plantedBugs: bug }, 0).result;
    const v = r.violations[0];
    if (v !== undefined) return `${seed} ${scenario.name}: ${v.checker}`;
  }
  return undefined;
}

describe('planted partition bugs are caught within 300 seeds (--scenario all)', () => {
  it('offsets assigned at append instead of apply (inconsistent or skipped offsets after a leader change)', () => {
    expect(firstFailure({ offsetsAtAppend: true })).toMatch(/inconsistent-offsets|skipped-read|non-monotonic-read|offsets-not-dense|lost-write/);
  }, 180_000);

  it('producer state left out of snapshots (replicas deduplicate differently after restore or failover)', () => {
    expect(firstFailure({ producerStateNotInSnapshots: true })).toMatch(/replica-divergence|duplicate|inconsistent-offsets|lost-write|producer-error/);
  }, 180_000);
});
