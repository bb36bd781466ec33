// The consumer-group offsets checker (sim/checkers/group-offsets-checker.ts), fed by hand: offsets that
// went back after an acknowledged commit (seen by a read, by another commit's answer, or missing
// altogether) are reported; concurrent requests, other groups and other partitions are not.
import { describe, expect, it } from 'vitest';
import { PartitionChecker } from '../../sim/checkers/partition-checker.ts';

function checkerAt(): { c: PartitionChecker; at: (ms: number) => void } {
  let nowMs = 0;
  const c = new PartitionChecker(() => nowMs, () => false);
  return { c, at: (ms) => { nowMs = ms; } };
}

const po = (partition: number, offset: number): { partition: number; offset: number } => ({ partition, offset });

describe('group offsets checker', () => {
  it('a healthy history: commits moving forward, reads at or past them, concurrent reads may lag', () => {
    const { c, at } = checkerAt();
    at(10);
    c.groups.committed('g', 'orders', 5, [po(0, 4), po(1, 2)]);
    at(20);
    c.groups.read('g', 'orders', 12, [po(0, 4), po(1, 2)]);
    // A commit acknowledged at 30 while a read issued at 25 was under way: the read may miss it.
    at(30);
    c.groups.committed('g', 'orders', 22, [po(0, 9)]);
    at(31);
    c.groups.read('g', 'orders', 25, [po(0, 4), po(1, 2)]);
    // A late older commit is answered with the stored, higher offset.
    at(40);
    c.groups.committed('g', 'orders', 35, [po(0, 9)]);
    // Other groups and topics are separate.
    c.groups.read('h', 'orders', 39, []);
    c.groups.read('g', 'payments', 39, []);
    expect(c.violations).toEqual([]);
    expect([c.groups.commits, c.groups.reads]).toEqual([3, 4]);
  });

  it('reports a read issued after an acknowledged commit that shows a lower offset', () => {
    const { c, at } = checkerAt();
    at(10);
    c.groups.committed('g', 'orders', 5, [po(0, 7)]);
    at(20);
    c.groups.read('g', 'orders', 15, [po(0, 3)]);
    expect(c.violations.map((v) => v.checker)).toEqual(['offsets-went-back']);
    expect(c.violations[0]?.message).toMatch(/g\/orders\/0: a read returned offset 3, but a commit of 7 was acknowledged/);
  });

  it('reports a read that lost the partition altogether', () => {
    const { c, at } = checkerAt();
    at(10);
    c.groups.committed('g', 'orders', 5, [po(2, 1)]);
    at(20);
    c.groups.read('g', 'orders', 15, []);
    expect(c.violations[0]?.message).toMatch(/g\/orders\/2: a read returned no offset/);
  });

  it('reports a commit answered below an earlier acknowledged one (a delayed old commit won)', () => {
    const { c, at } = checkerAt();
    at(10);
    c.groups.committed('g', 'orders', 5, [po(0, 50)]);
    at(20);
    c.groups.committed('g', 'orders', 15, [po(0, 40)]);
    expect(c.violations.map((v) => v.checker)).toEqual(['offsets-went-back']);
  });
});
