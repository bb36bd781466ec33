// `keel sim run --trace`: one seed's timeline, to follow a fault scenario step by step without writing a
// seed file first; without --seed it is refused (a sweep's timelines would be millions of lines).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const keel = (args: readonly string[]): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, [resolve('bin/keel.js'), ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, CI: 'true' } });

describe('keel sim run --trace', () => {
  it('prints the timeline of one seed: here the figure-8 adversary\'s five steps', () => {
    const r = keel(['sim', 'run', '--system', 'raft', '--scenario', 'figure-8', '--seed', '1', '--trace']);
    expect(r.status).toBe(0);
    for (const step of [1, 2, 3, 4, 5]) expect(r.stdout).toContain(`FAULT figure-8 ${step}:`);
    expect(r.stdout).toMatch(/figure-8 +1 +1 +0/);
  }, 60_000);

  it('is refused without --seed', () => {
    const r = keel(['sim', 'run', '--seeds', '3', '--trace']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('give it --seed');
  }, 60_000);
});
