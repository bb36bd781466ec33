// Running the `keel` command in a test as a user would: its own process (CI=true, no TTY), standard
// input given, and what it printed and its exit code collected once it has exited.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const KEEL = resolve('bin/keel.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function keel(args: readonly string[], input = ''): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [KEEL, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
