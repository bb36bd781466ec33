// Ctrl-C while `keel cluster up` is still starting: the nodes stop cleanly, the command exits 0, and it
// never goes on to announce a cluster that is ready (it used to print the ready table while stopping).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { randomBasePort } from '../../cli/base-port.ts';
import { KEEL } from './keel-cli.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'keel-up-interrupt-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('keel cluster up, interrupted during start-up', () => {
  it('stops its nodes, exits 0 and prints no ready table', async () => {
    const up = spawn(process.execPath, [KEEL, 'cluster', 'up', '--data-dir', dataDir, '--base-port', String(randomBasePort(21_000, 4_000))], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    up.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // Just before the cluster turns ready: the first node has registered, and its stop takes longer
      // than the others' last steps to readiness.
      if (!interrupted && stdout.includes('registered with the controller')) {
        interrupted = true;
        up.kill('SIGINT');
      }
    });
    up.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const code = await new Promise<number | null>((done) => up.on('close', done));
    expect(interrupted).toBe(true);
    expect(code).toBe(0);
    expect(stderr).toContain('stopping the cluster');
    expect(stdout).not.toContain('cluster ready');
  }, 60_000);
});
