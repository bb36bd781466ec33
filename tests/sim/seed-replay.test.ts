// Every recorded failure in scenarios/seeds/ is replayed on every test run: each file must show the
// outcome it records (after its fix: 'pass').
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runGenerated } from '../../scenarios/runner.ts';
import { listSeedFiles, readSeedFile } from '../../scenarios/seed-files.ts';

describe('seed corpus replay', () => {
  const files = listSeedFiles();
  it('has seed files', () => expect(files.length).toBeGreaterThan(0));
  for (const file of files) {
    it(basename(file), () => {
      const doc = readSeedFile(file);
      const r = runGenerated(doc.seed, doc.scenario, doc.generated, doc.params);
      const summary = r.violations.map((v) => `${v.checker}: ${v.message}`).join('\n');
      expect(r.ok ? 'pass' : `fail\n${summary}`).toEqual(doc.expected === 'pass' ? 'pass' : expect.stringMatching(/^fail/));
    }, 60_000);
  }
});
