// A replica whose stored state is corrupt (a latent disk error found by checksums at restart) rejoins its
// group empty, fenced one term past its intact stored term (broker/node-host.ts repair): the cluster keeps
// every promise and the replica is caught up again. Rejoining without the fence (planted) is caught: a
// leader of its old term still counts what it lost.
import { describe, expect, it } from 'vitest';
import type { NodePlantedBugs } from '../../broker/disk-identity.ts';
import { scenarioByName, type Scenario } from '../../scenarios/catalog.ts';
import { DEFAULT_PARAMS, runSeed } from '../../scenarios/runner.ts';

const SEEDS = 12;
const scenario = scenarioByName('disk-corruption') as Scenario;

function run(bugs: NodePlantedBugs): { failures: string[]; repaired: number } {
  const failures: string[] = [];
  let repaired = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = runSeed(scenario, seed, { ...DEFAULT_PARAMS, plantedBugs: bugs }, 0).result;
    repaired += (r.stats as Record<string, number>)['replicasRepaired'] ?? 0;
    const v = r.violations[0];
    if (v !== undefined) failures.push(`${seed}: ${v.checker}: ${v.message}`);
  }
  return { failures, repaired };
}

describe('--scenario disk-corruption: a corrupt replica rejoins empty', () => {
  it(`fenced: ${SEEDS} seeds clean, replicas repaired in most`, () => {
    const { failures, repaired } = run({});
    expect(failures).toEqual([]);
    expect(repaired).toBeGreaterThanOrEqual(SEEDS / 2);
  }, 120_000);

  it('without the fence it is caught (a leader of its old term counts the acknowledgements it lost)', () => {
    const { failures } = run({ repairWithoutFence: true });
    expect(failures.length).toBeGreaterThanOrEqual(SEEDS / 3);
    expect(failures[0]).toMatch(/beyond last index|lost-write|leader-completeness|state-machine-safety|log-matching|election-safety/);
  }, 120_000);
});
