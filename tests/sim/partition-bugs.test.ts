// Planted partition bugs (test-only switches, broker/partition/partition-machine.ts PartitionPlantedBugs)
// must be caught by the full-system sweep within 300 seeds.
import { describe, expect, it } from 'vitest';
import type { PartitionPlantedBugs } from '../../broker/partition/partition-machine.ts';
import { firstCaught } from './first-caught.ts';

/** The checker that caught `bug` first within 300 seeds, as "seed scenario: checker". */
function firstFailure(bug: PartitionPlantedBugs): string | undefined {
  const c = firstCaught({ plantedBugs: bug }, 300);
  return c === undefined ? undefined : `${c.seed} ${c.scenario}: ${c.checker}`;
}

describe('planted partition bugs are caught within 300 seeds (--scenario all)', () => {
  it('offsets assigned at append instead of apply (inconsistent or skipped offsets after a leader change)', () => {
    expect(firstFailure({ offsetsAtAppend: true })).toMatch(/inconsistent-offsets|skipped-read|non-monotonic-read|offsets-not-dense|lost-write/);
  }, 180_000);

  it('producer state left out of snapshots (replicas deduplicate differently after restore or failover)', () => {
    expect(firstFailure({ producerStateNotInSnapshots: true })).toMatch(/replica-divergence|duplicate|inconsistent-offsets|lost-write|producer-error/);
  }, 180_000);
});
