// The figure-8 adversary (sim/figure8.ts) must actually play the paper's sequence to its end, or the
// planted-bug test that relies on it proves little; and correct Raft must come through it unharmed.
import { describe, expect, it } from 'vitest';
import { scenarioByName, type Scenario } from '../../scenarios/catalog.ts';
import { DEFAULT_PARAMS, runSeed, type SystemUnderTest } from '../../scenarios/runner.ts';

const figure8 = scenarioByName('figure-8') as Scenario;

/**
 * Runs seeds 1..count; returns the failures, how many times the adversary reached steps 1 and 5, and the
 * groups it played against.
 */
function play(system: SystemUnderTest, count: number): { failures: string[]; started: number; finished: number; groups: Set<number> } {
  const failures: string[] = [];
  let started = 0;
  let finished = 0;
  const groups = new Set<number>();
  for (let seed = 1; seed <= count; seed++) {
    const r = runSeed(figure8, seed, { ...DEFAULT_PARAMS, system, keepTraceLines: true }, 0).result;
    if (!r.ok) failures.push(`seed ${seed}: ${r.violations.map((v) => v.message).join('; ')}`);
    for (const line of r.trace ?? []) {
      const group = /FAULT figure-8 1: group (\d+)/.exec(line)?.[1];
      if (group !== undefined) {
        started++;
        groups.add(Number(group));
      }
      if (line.includes('FAULT figure-8 5:')) finished++;
    }
  }
  return { failures, started, finished, groups };
}

describe('scenario figure-8', () => {
  it('drives the bare Raft group through all five steps, again and again, and every seed passes', () => {
    const { failures, started, finished } = play('raft', 12);
    expect(failures).toEqual([]);
    // Several attempts a seed; most reach the end (one is abandoned when, say, no entry is left to carry).
    expect(started).toBeGreaterThanOrEqual(24);
    expect(finished).toBeGreaterThanOrEqual(started / 2);
  }, 60_000);

  it('does the same to a Keel cluster\'s controller group (0) and its data partitions', () => {
    const { failures, finished, groups } = play('keel', 4);
    expect(failures).toEqual([]);
    expect(finished).toBeGreaterThanOrEqual(4);
    expect(groups.has(0)).toBe(true);
    expect([...groups].some((g) => g !== 0)).toBe(true);
  }, 60_000);
});
