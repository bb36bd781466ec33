// broker/disk-identity.ts: the rules that tell a replaced disk from a new node.
import { describe, expect, it } from 'vitest';
import { INCARNATION_RANDOM_PARTS, PeerLives, isAdmissionAnswer, readReplacement, replacementFrom, replacementOps, startsOp, storedStarts } from '../../broker/disk-identity.ts';
import type { WriteOp } from '../../broker/ports.ts';

const life = (starts: number, random = 12_345): number => starts * INCARNATION_RANDOM_PARTS + random;
const asRecords = (...ops: WriteOp[]): Map<string, Uint8Array> => new Map(ops.map((op) => (op.type === 'put' ? [op.key, op.value] : ['', new Uint8Array()])));

describe('PeerLives', () => {
  it('records a peer life only when it is later than any seen, and the record reloads', () => {
    const lives = new PeerLives();
    expect(lives.startsSeen(2)).toBe(0);
    const first = lives.observe(2, life(3));
    expect(first).not.toBeNull();
    expect(lives.observe(2, life(3, 99))).toBeNull(); // the same life
    expect(lives.observe(2, life(1))).toBeNull(); // an earlier life (a late frame, or a replaced disk)
    const later = lives.observe(2, life(4)) as WriteOp;
    const reloaded = new PeerLives();
    reloaded.load(asRecords(later));
    expect(reloaded.startsSeen(2)).toBe(4);
    expect(reloaded.startsSeen(3)).toBe(0);
  });

  it('reads a damaged record as nothing seen', () => {
    const lives = new PeerLives();
    lives.load(new Map([['n/peer-starts', new TextEncoder().encode('{not json')]]));
    expect(lives.startsSeen(2)).toBe(0);
  });
});

describe('replacementFrom', () => {
  it('finds no replacement when no peer saw a life the disk does not remember (a new node, or a restart)', () => {
    expect(replacementFrom([{ startsSeen: 0, terms: [], groupsBelow: 1 }, { startsSeen: 0, terms: [[0, 3]], groupsBelow: 4 }], 0)).toBeNull();
    expect(replacementFrom([{ startsSeen: 5, terms: [[0, 3]], groupsBelow: 4 }], 5)).toBeNull();
  });

  it('fences every group one term past the highest any peer reported, once one peer saw a later life', () => {
    const replaced = replacementFrom([{ startsSeen: 0, terms: [[0, 7], [4, 2]], groupsBelow: 5 }, { startsSeen: 3, terms: [[0, 5], [4, 9], [6, 1]], groupsBelow: 7 }], 0);
    expect(replaced).toEqual({ fences: new Map([[0, 8], [4, 10], [6, 2]]), groupsBelow: 7 });
    expect(readReplacement(asRecords(...replacementOps(replaced as NonNullable<typeof replaced>)))).toEqual(replaced);
    expect(readReplacement(new Map())).toEqual({ fences: new Map(), groupsBelow: 0 });
  });
});

describe('admission records', () => {
  it('a disk remembers its start count; a new disk remembers none', () => {
    expect(storedStarts(new Map())).toBe(0);
    expect(storedStarts(asRecords(startsOp(7)))).toBe(7);
  });

  it('takes only well-formed answers', () => {
    expect(isAdmissionAnswer({ startsSeen: 2, terms: [[0, 4]], groupsBelow: 3 })).toBe(true);
    for (const bad of [undefined, null, { error: 'UNKNOWN_METHOD' }, { startsSeen: 2, terms: [[0, 4]] }, { startsSeen: 1.5, terms: [], groupsBelow: 1 }, { startsSeen: 1, terms: [[0]], groupsBelow: 1 }, { startsSeen: 1, terms: [['0', 1]], groupsBelow: 1 }]) {
      expect(isAdmissionAnswer(bad)).toBe(false);
    }
  });
});
