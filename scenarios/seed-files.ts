// The seed corpus: every simulator failure becomes scenarios/seeds/<scenario>-<seed>.json before it is
// fixed, and `npm test` replays every file. A file holds everything needed to rerun the case bit for bit.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Violation } from '../sim/checkers/raft-checker.ts';
import type { Generated } from './catalog.ts';
import type { RunParams } from './runner.ts';

export const SEEDS_DIR = join(import.meta.dirname, 'seeds');

export interface SeedFile {
  readonly seed: number;
  readonly scenario: string;
  readonly params: RunParams;
  /** The (shrunk) generated parameters and fault schedule. */
  readonly generated: Generated;
  /** What failed when the file was recorded. */
  readonly failure: readonly Violation[];
  /** What a replay must show now: 'pass' once the bug is fixed. */
  readonly expected: 'pass' | 'fail';
  readonly traceHash?: string;
  readonly note?: string;
}

/** `<scenario>-<seed>.json`; a further failure of the same seed gets `-2`, `-3`... */
export function seedFileName(scenario: string, seed: number, n = 1): string {
  return n === 1 ? `${scenario}-${seed}.json` : `${scenario}-${seed}-${n}.json`;
}

/**
 * Writes a new seed file. A recorded failure is never overwritten (its file may already say the bug is
 * fixed): the same seed failing again, differently or after a fix, gets the next free name.
 */
export function writeSeedFile(file: SeedFile, dir = SEEDS_DIR): string {
  mkdirSync(dir, { recursive: true });
  const taken = new Set(listSeedFiles(dir).map((p) => basename(p)));
  let n = 1;
  while (taken.has(seedFileName(file.scenario, file.seed, n))) n++;
  const path = join(dir, seedFileName(file.scenario, file.seed, n));
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
  return path;
}

export function readSeedFile(path: string): SeedFile {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as Partial<SeedFile>;
  if (typeof doc.seed !== 'number' || typeof doc.scenario !== 'string' || doc.generated === undefined || doc.params === undefined) {
    throw new Error(`${path}: not a Keel seed file (needs seed, scenario, params, generated)`);
  }
  return { failure: [], expected: 'pass', ...doc } as SeedFile;
}

export function listSeedFiles(dir = SEEDS_DIR): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f));
  } catch {
    return [];
  }
}
