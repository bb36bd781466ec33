// The bounded sweep of `npm test`: a fixed range of seeds across all scenarios (cycling like
// `keel sim run --scenario all`); every seed must pass. Split in parts so vitest runs them in parallel.
// Long random sweeps belong to `npm run sim:soak`.
import { describe, expect, it } from 'vitest';
import { SCENARIOS, type Scenario } from '../../scenarios/catalog.ts';
import { DEFAULT_PARAMS, runSeed, type SystemUnderTest } from '../../scenarios/runner.ts';

export function sweepPart(system: SystemUnderTest, first: number, count: number): void {
  describe(`bounded sweep (${system}), seeds ${first}..${first + count - 1}`, () => {
    it('every seed passes', () => {
      const failures: string[] = [];
      for (let seed = first; seed < first + count; seed++) {
        const scenario = SCENARIOS[seed % SCENARIOS.length] as Scenario;
        const r = runSeed(scenario, seed, { ...DEFAULT_PARAMS, system }, 0).result;
        if (!r.ok) failures.push(`seed ${seed} (${scenario.name}): ${r.violations.map((v) => `${v.checker}: ${v.message}`).join('; ')} — reproduce: keel sim run --system ${system} --scenario ${scenario.name} --seed ${seed}`);
      }
      expect(failures).toEqual([]);
    }, 180_000);
  });
}
