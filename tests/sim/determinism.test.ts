// Same seed, same run: the trace hash over every executed event must match bit for bit; different
// seeds must differ (DESIGN.md §6).
import { describe, expect, it } from 'vitest';
import { scenarioByName } from '../../scenarios/catalog.ts';
import { DEFAULT_PARAMS, runSeed } from '../../scenarios/runner.ts';

const params = { ...DEFAULT_PARAMS, safetyMs: 4_000, healMs: 6_000 };

describe('determinism', () => {
  for (const name of ['swarm', 'crash-restart-loop', 'membership-change-under-faults']) {
    it(`${name}: one seed twice gives one trace hash; other seeds give others`, () => {
      const scenario = scenarioByName(name);
      if (scenario === undefined) throw new Error(name);
      const a = runSeed(scenario, 7, params, 0).result;
      const b = runSeed(scenario, 7, params, 0).result;
      const c = runSeed(scenario, 8, params, 0).result;
      const d = runSeed(scenario, 9, params, 0).result;
      expect(b.traceHash).toBe(a.traceHash);
      expect(b.events).toBe(a.events);
      expect(new Set([a.traceHash, c.traceHash, d.traceHash]).size).toBe(3);
    });
  }
});
