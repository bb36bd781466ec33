// The consumer-group offsets checker (sim/checkers/group-offsets-checker.ts), fed by hand: offsets that
// went back after an acknowledged commit (seen by a read, by another commit's answer, or missing
// altogether, in a topic's offsets or a description of the whole group) are reported, also when the read
// is sent in the very callback that saw the acknowledgement; requests sent before an acknowledgement,
// other groups and other topics are not. An acknowledged reset lowers the floor to exactly its offset and
// a deletion to none; commits after them raise it again; a group with a reset in flight is not checked.
import { describe, expect, it } from 'vitest';
import { PartitionChecker } from '../../sim/checkers/partition-checker.ts';

const checker = (): PartitionChecker => new PartitionChecker(() => 0, () => false);
const po = (partition: number, offset: number): { partition: number; offset: number } => ({ partition, offset });

describe('group offsets checker', () => {
  it('a healthy history: commits moving forward, reads at or past them, concurrent reads may lag', () => {
    const c = checker();
    const groups = c.groups;
    groups.committed('g', 'orders', groups.issue(), [po(0, 4), po(1, 2)]);
    groups.read('g', 'orders', groups.issue(), [po(0, 4), po(1, 2)]);
    // A read sent before the commit of 9 was acknowledged may miss it.
    const readSent = groups.issue();
    groups.committed('g', 'orders', groups.issue(), [po(0, 9)]);
    groups.read('g', 'orders', readSent, [po(0, 4), po(1, 2)]);
    // A late older commit is answered with the stored, higher offset.
    groups.committed('g', 'orders', groups.issue(), [po(0, 9)]);
    // Other groups and topics are separate.
    groups.read('h', 'orders', groups.issue(), []);
    groups.read('g', 'payments', groups.issue(), []);
    expect(c.violations).toEqual([]);
    expect([groups.commits, groups.reads]).toEqual([3, 4]);
  });

  it('reports a read sent after an acknowledged commit that shows a lower offset', () => {
    const c = checker();
    c.groups.committed('g', 'orders', c.groups.issue(), [po(0, 7)]);
    c.groups.read('g', 'orders', c.groups.issue(), [po(0, 3)]);
    expect(c.violations.map((v) => v.checker)).toEqual(['offsets-went-back']);
    expect(c.violations[0]?.message).toMatch(/g\/orders\/0: a read returned offset 3, but a commit of 7 was acknowledged/);
  });

  it('reports a read that lost the partition altogether', () => {
    const c = checker();
    c.groups.committed('g', 'orders', c.groups.issue(), [po(2, 1)]);
    c.groups.read('g', 'orders', c.groups.issue(), []);
    expect(c.violations[0]?.message).toMatch(/g\/orders\/2: a read returned no offset/);
  });

  it('reports a commit answered below an earlier acknowledged one (a delayed old commit won)', () => {
    const c = checker();
    c.groups.committed('g', 'orders', c.groups.issue(), [po(0, 50)]);
    c.groups.committed('g', 'orders', c.groups.issue(), [po(0, 40)]);
    expect(c.violations.map((v) => v.checker)).toEqual(['offsets-went-back']);
  });

  it('checks a description of the whole group against every topic the group committed', () => {
    const c = checker();
    const groups = c.groups;
    groups.committed('g', 'orders', groups.issue(), [po(0, 5)]);
    groups.committed('g', 'payments', groups.issue(), [po(1, 2)]);
    groups.committed('h', 'orders', groups.issue(), [po(0, 99)]);
    groups.readGroup('g', groups.issue(), [{ topic: 'orders', offsets: [po(0, 6)] }, { topic: 'payments', offsets: [po(1, 2)] }]);
    expect(c.violations).toEqual([]);
    // A description that lost one topic of the group, and one behind on the other.
    groups.readGroup('g', groups.issue(), [{ topic: 'orders', offsets: [po(0, 4)] }]);
    expect(c.violations.map((v) => v.message)).toEqual([
      expect.stringMatching(/g\/orders\/0: a group description returned offset 4, but a commit of 5 was acknowledged/),
      expect.stringMatching(/g\/payments\/1: a group description returned no offset/),
    ]);
  });

  it('an acknowledged reset lowers the floor to its offset; later commits raise it again', () => {
    const c = checker();
    const groups = c.groups;
    groups.committed('g', 'orders', groups.issue(), [po(0, 40), po(1, 30)]);
    groups.unsettle('g');
    groups.reset('g', 'orders', [po(0, 10)]);
    // Partition 0 went back to 10 on purpose; partition 1 was not reset and keeps its floor.
    groups.read('g', 'orders', groups.issue(), [po(0, 10), po(1, 30)]);
    groups.committed('g', 'orders', groups.issue(), [po(0, 12)]);
    groups.read('g', 'orders', groups.issue(), [po(0, 12), po(1, 31)]);
    expect(c.violations).toEqual([]);
    expect([groups.commits, groups.resets]).toEqual([2, 1]);
    // Below the reset, and below the commit acknowledged after it.
    groups.read('g', 'orders', groups.issue(), [po(0, 9), po(1, 30)]);
    expect(c.violations.map((v) => v.message)).toEqual([expect.stringMatching(/g\/orders\/0: a read returned offset 9, but a commit of 12 was acknowledged/)]);
  });

  it('reports a read below an acknowledged reset (a duplicate of an older reset applied again, say)', () => {
    const c = checker();
    c.groups.committed('g', 'orders', c.groups.issue(), [po(0, 5)]);
    c.groups.unsettle('g');
    c.groups.reset('g', 'orders', [po(0, 20)]);
    c.groups.read('g', 'orders', c.groups.issue(), [po(0, 5)]);
    expect(c.violations.map((v) => v.message)).toEqual([expect.stringMatching(/g\/orders\/0: a read returned offset 5, but a reset to 20 was acknowledged/)]);
  });

  it('does not check a group while its reset is in flight (it may land at any moment)', () => {
    const c = checker();
    const groups = c.groups;
    groups.committed('g', 'orders', groups.issue(), [po(0, 50)]);
    groups.committed('h', 'orders', groups.issue(), [po(0, 50)]);
    groups.unsettle('g');
    groups.read('g', 'orders', groups.issue(), [po(0, 3)]);
    expect(c.violations).toEqual([]);
    // Other groups are still checked.
    groups.read('h', 'orders', groups.issue(), [po(0, 3)]);
    expect(c.violations.map((v) => v.message)).toEqual([expect.stringMatching(/^h\/orders\/0/)]);
  });

  it('after an acknowledged deletion the group may have no offsets, until it commits again', () => {
    const c = checker();
    const groups = c.groups;
    groups.committed('g', 'orders', groups.issue(), [po(0, 7)]);
    groups.committed('g', 'payments', groups.issue(), [po(2, 3)]);
    groups.unsettle('g');
    groups.deleted('g');
    groups.readGroup('g', groups.issue(), []);
    groups.committed('g', 'orders', groups.issue(), [po(0, 1)]);
    groups.readGroup('g', groups.issue(), [{ topic: 'orders', offsets: [po(0, 1)] }]);
    expect(c.violations).toEqual([]);
    expect(groups.deletions).toBe(1);
    groups.readGroup('g', groups.issue(), []);
    expect(c.violations.map((v) => v.message)).toEqual([expect.stringMatching(/g\/orders\/0: a group description returned no offset, but a commit of 1 was acknowledged/)]);
  });
});
