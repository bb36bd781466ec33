// A minority node restarting on an empty disk (broker/disk-identity.ts): with admission and fences the
// cluster keeps every promise; with the node rejoining as if new (the planted bug, which is what Keel
// did before), the sweep catches it.
import { describe, expect, it } from 'vitest';
import type { NodePlantedBugs } from '../../broker/disk-identity.ts';
import { scenarioByName, type Scenario } from '../../scenarios/catalog.ts';
import { DEFAULT_PARAMS, runSeed } from '../../scenarios/runner.ts';

const SEEDS = 12;
const scenario = scenarioByName('disk-wipe') as Scenario;

function failures(bugs: NodePlantedBugs): string[] {
  const out: string[] = [];
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = runSeed(scenario, seed, { ...DEFAULT_PARAMS, plantedBugs: bugs }, 0).result;
    const v = r.violations[0];
    if (v !== undefined) out.push(`${seed}: ${v.checker}: ${v.message}`);
  }
  return out;
}

describe('--scenario disk-wipe', () => {
  it(`a replaced disk rejoins fenced: ${SEEDS} seeds clean`, () => {
    expect(failures({})).toEqual([]);
  }, 120_000);

  it('a replaced disk rejoining as if new is caught (its leader still counts the lost acknowledgements)', () => {
    const found = failures({ rejoinWithoutFence: true });
    expect(found.length).toBeGreaterThan(SEEDS / 2);
    expect(found[0]).toMatch(/beyond last index|lost-write|leader-completeness|state-machine-safety|log-matching|election-safety/);
  }, 120_000);
});
