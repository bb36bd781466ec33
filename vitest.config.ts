import { defineConfig } from 'vitest/config';

// One config for every suite: unit, paper-section, interaction scripts, simulation sweeps,
// seed replay and the real-cluster integration tests (tests/<kind>/**).
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: process.env['CI'] ? ['default'] : ['default'],
  },
});
