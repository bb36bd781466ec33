// No import cycles anywhere (type-only imports are erased and do not count), and the layering of
// DESIGN.md §1 holds for every folder, not only the core.
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tsFiles } from '../support/files.ts';

const root = join(import.meta.dirname, '..', '..');
const FOLDERS = ['raft', 'controller', 'broker', 'net', 'sim', 'scenarios', 'cli'];

/** Runtime import edges of one file (skips `import type`). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /^\s*(import|export)\s+(?!type\b)[^'";]*?from\s+['"](\.[^'"]+)['"]/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(resolve(file, '..', m[2] as string));
  const bare = /^\s*import\s+['"](\.[^'"]+)['"]/gm;
  for (let m = bare.exec(text); m !== null; m = bare.exec(text)) out.push(resolve(file, '..', m[1] as string));
  return out;
}

export function findCycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's strongly connected components; any component of size > 1 (or a self-loop) is a cycle.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

const LAYERS: Record<string, readonly string[]> = {
  raft: ['raft'],
  controller: ['controller', 'raft'],
  broker: ['broker', 'controller', 'raft'],
  sim: ['sim', 'broker', 'controller', 'raft'],
  scenarios: ['scenarios', 'sim', 'broker', 'controller', 'raft'],
  net: ['net', 'broker', 'controller', 'raft'],
  cli: ['cli', 'net', 'broker', 'controller', 'raft', 'sim', 'scenarios'],
};

describe('module graph', () => {
  const graph = new Map<string, string[]>();
  for (const folder of FOLDERS) {
    let files: string[] = [];
    try { files = tsFiles(join(root, folder)); } catch { continue; }
    for (const f of files) graph.set(f, runtimeImports(f));
  }

  it('has no import cycles', () => {
    const cycles = findCycles(graph).map((c) => c.map((f) => relative(root, f)));
    expect(cycles).toEqual([]);
  });

  it('respects the layering of DESIGN.md §1', () => {
    const bad: string[] = [];
    for (const [file, deps] of graph) {
      const from = relative(root, file).split('/')[0] as string;
      for (const d of deps) {
        const to = relative(root, d).split('/')[0] as string;
        if (!(LAYERS[from] ?? []).includes(to)) bad.push(`${relative(root, file)} -> ${relative(root, d)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the cycle finder finds a planted cycle', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    expect(findCycles(g)).toEqual([['a', 'b', 'c']]);
  });
});
