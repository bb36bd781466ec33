// `keel sim run --trace`: one seed's timeline, to follow a fault scenario step by step without writing a
// seed file first; without --seed it is refused (a sweep's timelines would be millions of lines).
import { describe, expect, it } from 'vitest';
import { keel } from './keel-cli.ts';

describe('keel sim run --trace', () => {
  it('prints the timeline of one seed: here the figure-8 adversary\'s five steps', async () => {
    const r = await keel(['sim', 'run', '--system', 'raft', '--scenario', 'figure-8', '--seed', '1', '--trace']);
    expect(r.code).toBe(0);
    for (const step of [1, 2, 3, 4, 5]) expect(r.stdout).toContain(`FAULT figure-8 ${step}:`);
    expect(r.stdout).toMatch(/figure-8 +1 +1 +0/);
  }, 60_000);

  it('is refused without --seed', async () => {
    const r = await keel(['sim', 'run', '--seeds', '3', '--trace']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('give it --seed');
  }, 60_000);
});
