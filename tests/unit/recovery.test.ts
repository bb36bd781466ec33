// A node's stored Raft state round-trips through the storage codec, and recovery never uses a record
// whose checksum fails: one corrupt hard-state copy is repaired from the other; anything else fails the
// group, saying what may still be trusted (the stored term and the snapshot's voters, for a repair).
import { describe, expect, it } from 'vitest';
import { recoverGroups } from '../../broker/recovery.ts';
import { decodeEntry, decodeHardState, encodeEntry, encodeHardState, encodeSnapshot, entryKey, hardStateKeys, hardStateOps, parseGroupKey, snapshotKey } from '../../broker/storage-codec.ts';
import { crc32c } from '../../broker/codec/crc32c.ts';
import type { Entry, HardState, Index, NodeId, Term } from '../../raft/types.ts';

const enc = new TextEncoder();
const ent = (t: number, i: number, d: string): Entry => ({ term: t as Term, index: i as Index, type: 'normal', data: enc.encode(d) });
const hs: HardState = { term: 3 as Term, vote: 1 as NodeId, commit: 3 as Index };

function records(): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  m.set(snapshotKey(1), encodeSnapshot({ meta: { index: 1 as Index, term: 1 as Term, confState: { voters: [1, 2, 3] as NodeId[], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: enc.encode('[]') }));
  for (const e of [ent(2, 2, 'a'), ent(3, 3, 'b'), ent(3, 4, 'c')]) m.set(entryKey(1, e.index), encodeEntry(e));
  for (const op of hardStateOps(1, hs)) if (op.type === 'put') m.set(op.key, op.value);
  return m;
}

function flip(m: Map<string, Uint8Array>, key: string, at = 7): void {
  const v = (m.get(key) as Uint8Array).slice();
  v[at] = (v[at] as number) ^ 0x10;
  m.set(key, v);
}

describe('CRC-32C', () => {
  it('matches the standard check value and detects a flipped bit', () => {
    expect(crc32c(enc.encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    const long = enc.encode('The quick brown fox jumps over the lazy dog, again and again and again.');
    const c = crc32c(long);
    long[20] = (long[20] as number) ^ 1;
    expect(crc32c(long)).not.toBe(c);
  });
});

describe('storage codec and recovery', () => {
  it('entries round-trip; a corrupt record decodes to nothing', () => {
    const e = ent(7, 42, 'payload');
    const rec = encodeEntry(e);
    expect(decodeEntry(rec)).toEqual(e);
    rec[10] = (rec[10] as number) ^ 1;
    expect(decodeEntry(rec)).toBeUndefined();
  });

  it('hard states round-trip, with numbers beyond 32 bits', () => {
    const big: HardState = { term: (2 ** 40 + 3) as Term, vote: 7 as NodeId, commit: (2 ** 52 + 1) as Index };
    expect(decodeHardState(encodeHardState(big))).toEqual(big);
  });

  it('keys keep their layout for every group, however many groups a node has seen', () => {
    for (let g = 1; g <= 10_000; g++) {
      const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
      expect(entryKey(g, 255 as Index)).toBe(`g/${hex(g, 8)}/e/${hex(255, 14)}`);
      expect(hardStateKeys(g)).toEqual([`g/${hex(g, 8)}/h0`, `g/${hex(g, 8)}/h1`]);
      expect(parseGroupKey(entryKey(g, 1 as Index))?.group).toBe(g);
    }
  });

  it('recovers snapshot, entries and hard state', () => {
    const g = recoverGroups(records()).get(1);
    if (g === undefined || !g.ok) throw new Error('not recovered');
    expect(g.storage.lastIndex()).toBe(4);
    expect(g.storage.hardState()).toEqual(hs);
    expect(g.storage.term(3 as Index)).toBe(3);
  });

  it('one corrupt hard-state copy is repaired from the other', () => {
    const m = records();
    flip(m, hardStateKeys(1)[0]);
    const g = recoverGroups(m).get(1);
    expect(g?.ok).toBe(true);
    if (g?.ok) expect(g.repairedCopies).toBe(1);
  });

  it('steps aside when both hard-state copies, an entry, or the snapshot are corrupt', () => {
    const cases: [string, (m: Map<string, Uint8Array>) => void][] = [
      ['both hard-state copies', (m) => { flip(m, hardStateKeys(1)[0]); flip(m, hardStateKeys(1)[1]); }],
      ['an entry', (m) => flip(m, entryKey(1, 3 as Index))],
      ['the snapshot', (m) => flip(m, snapshotKey(1))],
      ['a gap in the log', (m) => { m.delete(entryKey(1, 3 as Index)); }],
    ];
    for (const [what, damage] of cases) {
      const m = records();
      damage(m);
      const g = recoverGroups(m).get(1);
      expect(g?.ok, what).toBe(false);
    }
  });

  it('a failed group says what can still be trusted: the stored term, and the snapshot\'s voters', () => {
    const failed = (damage: (m: Map<string, Uint8Array>) => void): unknown => {
      const m = records();
      damage(m);
      const g = recoverGroups(m).get(1);
      return g?.ok === false ? { term: g.term, voters: g.voters } : 'recovered';
    };
    expect(failed((m) => flip(m, entryKey(1, 3 as Index)))).toEqual({ term: 3, voters: [1, 2, 3] });
    expect(failed((m) => flip(m, snapshotKey(1)))).toEqual({ term: 3, voters: undefined });
    expect(failed((m) => { flip(m, hardStateKeys(1)[0]); flip(m, hardStateKeys(1)[1]); flip(m, entryKey(1, 3 as Index)); })).toEqual({ term: undefined, voters: undefined });
  });
});
