// Runs every interaction script in tests/interaction/testdata and compares each command's output with
// the golden text in the file. KEEL_REWRITE=1 rewrites the files with the actual output instead.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderScript, runScript } from './script.ts';

const dir = join(import.meta.dirname, 'testdata');
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

describe('interaction scripts', () => {
  it('has the scripts the Raft issue lists', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  for (const file of files) {
    it(file, () => {
      const path = join(dir, file);
      const text = readFileSync(path, 'utf8');
      const { blocks, outputs } = runScript(text);
      if (process.env['KEEL_REWRITE'] === '1') {
        writeFileSync(path, renderScript(blocks, outputs));
        return;
      }
      blocks.forEach((b, k) => {
        if (b.command === '') return;
        expect(outputs[k], `${file}: output of "${b.command}" (block ${k + 1})`).toBe(b.expected);
      });
    });
  }
});
