import { defineConfig } from 'vitest/config';

// One run for every suite, in two groups, one after the other:
// - "model": unit, paper-section, interaction scripts, tidy rules, simulation sweeps and seed replay.
//   Each file is one single-threaded process that needs nothing else, so two run at once: on a 2-core
//   machine vitest's default (cores - 1) would run them one by one and leave a core idle.
// - "real": real gRPC processes and LevelDB (tests/net, tests/integration), one file at a time, so a
//   cluster's nodes are not starved of CPU by a sweep and their timeouts keep their meaning.
const MODEL_TESTS = ['tests/unit/**/*.test.ts', 'tests/paper/**/*.test.ts', 'tests/interaction/**/*.test.ts', 'tests/tidy/**/*.test.ts', 'tests/sim/**/*.test.ts'];
const REAL_TESTS = ['tests/net/**/*.test.ts', 'tests/integration/**/*.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'model', include: MODEL_TESTS, maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'real', include: REAL_TESTS, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
