// The figure-8 adversary (sim/figure8.ts) must actually play the paper's sequence to its end, or the
// planted-bug test that relies on it proves little; and correct Raft must come through it unharmed.
import { describe, expect, it } from 'vitest';
import { scenarioByName, type Scenario } from '../../scenarios/catalog.ts';
import { DEFAULT_PARAMS, runSeed, type SystemUnderTest } from '../../scenarios/runner.ts';

const figure8 = scenarioByName('figure-8') as Scenario;

/** Runs seeds 1..count; returns the failures and how many times the adversary reached each step. */
function play(system: SystemUnderTest, count: number): { failures: string[]; steps: number[] } {
  const failures: string[] = [];
  const steps = [0, 0, 0, 0, 0, 0];
  for (let seed = 1; seed <= count; seed++) {
    const r = runSeed(figure8, seed, { ...DEFAULT_PARAMS, system, keepTraceLines: true }, 0).result;
    if (!r.ok) failures.push(`seed ${seed}: ${r.violations.map((v) => v.message).join('; ')}`);
    for (const line of r.trace ?? []) {
      const step = /FAULT figure-8 (\d):/.exec(line)?.[1];
      if (step !== undefined) steps[Number(step)]++;
    }
  }
  return { failures, steps };
}

describe('scenario figure-8', () => {
  it('drives the bare Raft group through all five steps, again and again, and every seed passes', () => {
    const { failures, steps } = play('raft', 12);
    expect(failures).toEqual([]);
    // Every attempt starts; most reach the end (an attempt is abandoned when, say, no entry is left to carry).
    expect(steps[1]).toBeGreaterThanOrEqual(12);
    expect(steps[5]).toBeGreaterThanOrEqual(steps[1] / 2);
  }, 60_000);

  it('does the same to the controller group of a Keel cluster', () => {
    const { failures, steps } = play('keel', 3);
    expect(failures).toEqual([]);
    expect(steps[5]).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
