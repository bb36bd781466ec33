// TigerBeetle's tidy idea: grep the deterministic core for anything that reaches outside its ports.
// Unlike lint, a disable-comment cannot hide an offender here; every offender is listed.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tsFiles } from '../support/files.ts';

const root = join(import.meta.dirname, '..', '..');

/** Each banned token with why. Matched on raw text, comments included: the core does not even mention them. */
const BANNED: readonly [RegExp, string][] = [
  [/\bDate\b/, 'wall-clock time (use the Clock port)'],
  [/Math\.random/, 'ambient randomness (use the Rng port)'],
  [/\bset(Timeout|Interval|Immediate)\b|\bclear(Timeout|Interval|Immediate)\b|\bqueueMicrotask\b/, 'timers (use the Clock port)'],
  [/\bprocess\s*[.[]/, 'process state'],
  [/\bperformance\b/, 'wall-clock time'],
  [/\bcrypto\b/, 'ambient randomness / I/O'],
  [/\bBuffer\b/, 'Node-only type (use Uint8Array)'],
  [/\brequire\s*\(/, 'CommonJS loading'],
  [/from\s+['"]node:|import\(\s*['"]node:/, 'node:* modules'],
  [/from\s+['"](fs|net|os|path|child_process|worker_threads|@grpc\/grpc-js|level|classic-level|pino|pino-pretty|protobufjs|commander)['"]/, 'an I/O library'],
  [/\basync\s+(function|\(|[a-zA-Z_$][\w$]*\s*\()|\bawait\b|\bPromise\b/, 'asynchrony (the core is synchronous; completions are events)'],
  [/\benum\s+[A-Z]/, 'enum (use as-const objects and literal unions)'],
];

/** Which top-level folders each core folder may import from (DESIGN.md §1). */
const ALLOWED_IMPORTS: Record<string, readonly string[]> = {
  raft: ['raft'],
  controller: ['controller', 'raft'],
  broker: ['broker', 'controller', 'raft'],
};

function offenders(folder: string): string[] {
  const found: string[] = [];
  for (const file of tsFiles(join(root, folder))) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, k) => {
      for (const [re, why] of BANNED) {
        if (re.test(line)) found.push(`${relative(root, file)}:${k + 1}: ${why}: ${line.trim()}`);
      }
      const imp = /from\s+['"](\.[^'"]+)['"]/.exec(line);
      if (imp !== null) {
        const target = relative(root, join(file, '..', imp[1] as string)).split('/')[0] as string;
        if (!(ALLOWED_IMPORTS[folder] ?? []).includes(target)) found.push(`${relative(root, file)}:${k + 1}: imports ${target}/ (not allowed from ${folder}/)`);
      }
    });
  }
  return found;
}

describe('tidy: the deterministic core touches the world only through ports', () => {
  for (const folder of Object.keys(ALLOWED_IMPORTS)) {
    it(`${folder}/ has no banned tokens or upward imports`, () => {
      expect(offenders(folder)).toEqual([]);
    });
  }

  it('the grep itself catches what it claims to', () => {
    const sample = ['const t = Date.now();', 'Math.random()', 'setTimeout(f, 1)', 'process.exit(1)', "import fs from 'node:fs';", 'await x', 'enum Role {'];
    for (const line of sample) expect(BANNED.some(([re]) => re.test(line)), line).toBe(true);
    expect(BANNED.some(([re]) => re.test('const processed = 1; // process the batch'))).toBe(false);
  });
});
