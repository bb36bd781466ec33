// How the planted-bug tests look for a catch: the first seed whose run fails, cycling scenarios as
// `keel sim run --scenario all` does (a test that proves a checker can fail, PITFALLS.md).
import { SCENARIOS, type Scenario } from '../../scenarios/catalog.ts';
import { DEFAULT_PARAMS, runSeed, type RunParams } from '../../scenarios/runner.ts';

export interface Caught {
  readonly seed: number;
  readonly scenario: string;
  readonly checker: string;
  readonly message: string;
  /** "scenario: checker: message". */
  readonly what: string;
}

/**
 * The first seed in [1, seedsMax] whose run with `params` (over DEFAULT_PARAMS) has a violation, or one
 * whose "checker: message" matches `caughtBy` if given; seed s runs scenarios[s % scenarios.length].
 */
export function firstCaught(params: Partial<RunParams>, seedsMax: number, scenarios: readonly Scenario[] = SCENARIOS, caughtBy?: RegExp): Caught | undefined {
  for (let seed = 1; seed <= seedsMax; seed++) {
    const scenario = scenarios[seed % scenarios.length] as Scenario;
    const r = runSeed(scenario, seed, { ...DEFAULT_PARAMS, ...params }, 0).result;
    const v = r.violations.find((x) => caughtBy === undefined || caughtBy.test(`${x.checker}: ${x.message}`));
    if (v !== undefined) return { seed, scenario: scenario.name, checker: v.checker, message: v.message, what: `${scenario.name}: ${v.checker}: ${v.message}` };
  }
  return undefined;
}
