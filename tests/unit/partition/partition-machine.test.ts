// The partition state machine (broker/partition/partition-machine.ts), entry by entry: dense offsets
// assigned at apply (empty entries, trims, refused batches and corrupt headers take none), idempotent
// duplicates answered with the original offset, reads from an offset within a byte budget, retention
// trims of whole batches, retention targets by size and by time, offsetForTimestamp, and the
// compaction point that snapshots describe.
import { describe, expect, it } from 'vitest';
import { encodeCommand, recordBytes } from '../../../broker/partition/batch-codec.ts';
import { PartitionMachine, type ApplyOutcome } from '../../../broker/partition/partition-machine.ts';
import { bytes, contents, entryOf, Feeder, offsetOf, pid, produce, rec, text, trim, view } from './support.ts';

const values = (m: PartitionMachine, from = m.logStartOffset, maxBytes = Number.MAX_SAFE_INTEGER): (string | null)[] => m.read(from, maxBytes).records.map((r) => text(r.value));
const offsets = (m: PartitionMachine, from: number, maxBytes = Number.MAX_SAFE_INTEGER): number[] => m.read(from, maxBytes).records.map((r) => r.offset);

describe('offsets', () => {
  it('are dense, batch after batch, starting at 0', () => {
    const f = new Feeder(new PartitionMachine());
    expect(f.produce(['a', 'b', 'c'])).toMatchObject({ ok: true, baseOffset: 0, duplicate: false });
    expect(f.produce(['d'])).toMatchObject({ ok: true, baseOffset: 3, duplicate: false });
    expect(f.produce(['e', 'f'])).toMatchObject({ ok: true, baseOffset: 4, duplicate: false });
    expect(f.m.nextOffset).toBe(6);
    expect(contents(f.m)).toEqual(['a', 'b', 'c', 'd', 'e', 'f'].map((value, offset) => ({ offset, value })));
  });

  it('are assigned at apply: the Raft index of the entry does not matter, empty entries and trims take none', () => {
    const m = new PartitionMachine();
    expect(m.apply(entryOf(1, null))).toBeUndefined();
    expect(m.apply(entryOf(2, null))).toBeUndefined();
    expect(offsetOf(m.apply(entryOf(3, produce(['a', 'b']))))).toBe(0);
    expect(m.apply(entryOf(4, null))).toBeUndefined();
    expect(m.apply(entryOf(5, trim(0)))).toBeUndefined();
    expect(offsetOf(m.apply(entryOf(9, produce(['c']))))).toBe(2);
    expect(m.apply(entryOf(10, trim(1)))).toBeUndefined();
    expect(offsetOf(m.apply(entryOf(11, produce(['d']))))).toBe(3);
    expect(m.nextOffset).toBe(4);
    expect(offsets(m, 0)).toEqual([0, 1, 2, 3]);
  });

  it('a guessed base offset in the command is ignored (offsets come from the machine)', () => {
    const m = new PartitionMachine();
    const o = m.apply(entryOf(1, { type: 'produce', producer: null, appendTimeMs: 0, records: [rec('a')], guessedBaseOffset: 57 }));
    expect(offsetOf(o)).toBe(0);
    expect(m.nextOffset).toBe(1);
  });

  it('a batch with a corrupt header is CORRUPT_RECORD and takes no offsets', () => {
    const f = new Feeder(new PartitionMachine());
    f.produce(['a']);
    const data = encodeCommand(produce(['b', 'c']));
    data[0] = 9; // the version byte
    expect(f.apply(data)).toMatchObject({ ok: false, code: 'CORRUPT_RECORD' });
    expect(f.apply(new Uint8Array([9, 9, 9]))).toMatchObject({ ok: false, code: 'CORRUPT_RECORD' });
    expect(f.m.nextOffset).toBe(1);
    expect(f.produce(['d'])).toMatchObject({ baseOffset: 1 });
  });

  it('a batch whose records fail their checksum takes its offsets (apply reads only the header, on every replica alike) but is never served', () => {
    const f = new Feeder(new PartitionMachine());
    f.produce(['a']);
    const data = encodeCommand(produce(['b', 'c']));
    data[data.byteLength - 1] = (data[data.byteLength - 1] as number) ^ 1;
    expect(f.apply(data)).toMatchObject({ ok: true, baseOffset: 1 });
    expect(f.produce(['d'])).toMatchObject({ baseOffset: 3 });
    expect(f.m.read(0, Number.MAX_SAFE_INTEGER)).toMatchObject({ corrupt: true, records: [{ offset: 0 }] });
    expect(f.m.read(1, Number.MAX_SAFE_INTEGER)).toEqual({ corrupt: true, records: [] });
    expect(f.m.read(3, Number.MAX_SAFE_INTEGER)).toMatchObject({ corrupt: false, records: [{ offset: 3 }] });
  });

  it('stamps records without a timestamp with the append time; keeps the producer\'s otherwise', () => {
    const f = new Feeder(new PartitionMachine());
    const o = f.produce([rec('a'), rec('b', { timestamp: 77 }), rec('c', { timestamp: 0 })], null, 5_000);
    expect(o).toEqual({ ok: true, baseOffset: 0, logAppendTimeMs: 5_000, duplicate: false });
    expect(f.m.read(0, Number.MAX_SAFE_INTEGER).records.map((r) => r.timestamp)).toEqual([5_000, 77, 0]);
  });

  it('reads back keys, null values and headers as produced', () => {
    const f = new Feeder(new PartitionMachine());
    f.produce([{ key: bytes('k'), value: null, headers: [{ key: 'h', value: bytes('v') }], timestamp: 3 }, { key: null, value: new Uint8Array(0), headers: [], timestamp: 4 }]);
    expect(f.m.read(0, Number.MAX_SAFE_INTEGER).records).toEqual([
      { offset: 0, key: bytes('k'), value: null, headers: [{ key: 'h', value: bytes('v') }], timestamp: 3 },
      { offset: 1, key: null, value: new Uint8Array(0), headers: [], timestamp: 4 },
    ]);
  });

  it('calls onAppend for every appended batch, not for duplicates, errors, trims or empty entries', () => {
    const f = new Feeder(new PartitionMachine());
    let calls = 0;
    f.m.onAppend = () => calls++;
    f.produce(['a'], pid(1, 0, 0));
    f.produce(['a'], pid(1, 0, 0));
    f.produce(['x'], pid(1, 0, 5));
    f.apply(null);
    f.apply(trim(1));
    f.produce(['b']);
    expect(calls).toBe(2);
  });
});

describe('idempotent producers', () => {
  it('a duplicate returns the original offset and appends nothing', () => {
    const f = new Feeder(new PartitionMachine());
    expect(f.produce(['a', 'b'], pid(7, 0, 0))).toMatchObject({ ok: true, baseOffset: 0, duplicate: false });
    f.produce(['x']);
    expect(f.produce(['c'], pid(7, 0, 2))).toMatchObject({ ok: true, baseOffset: 3, duplicate: false });
    const before = view(f.m);
    expect(f.produce(['a', 'b'], pid(7, 0, 0), 9_999)).toEqual({ ok: true, baseOffset: 0, logAppendTimeMs: 9_999, duplicate: true });
    expect(f.produce(['c'], pid(7, 0, 2))).toMatchObject({ ok: true, baseOffset: 3, duplicate: true });
    expect(view(f.m)).toEqual(before);
    expect(f.produce(['d'], pid(7, 0, 3))).toMatchObject({ ok: true, baseOffset: 4, duplicate: false });
  });

  it('gaps, a new producer not at 0 and fenced epochs are refused and take no offsets', () => {
    const f = new Feeder(new PartitionMachine());
    f.produce(['a'], pid(1, 1, 0));
    expect(f.produce(['b'], pid(1, 1, 2))).toMatchObject({ ok: false, code: 'OUT_OF_ORDER_SEQUENCE' });
    expect(f.produce(['b'], pid(2, 0, 3))).toMatchObject({ ok: false, code: 'OUT_OF_ORDER_SEQUENCE' });
    expect(f.produce(['b'], pid(1, 0, 1))).toMatchObject({ ok: false, code: 'INVALID_PRODUCER_EPOCH' });
    expect(f.m.nextOffset).toBe(1);
    expect(f.produce(['b'], pid(1, 1, 1))).toMatchObject({ ok: true, baseOffset: 1 });
    expect(values(f.m)).toEqual(['a', 'b']);
  });

  it('a duplicate of a batch that retention already dropped still answers with its original offset', () => {
    const f = new Feeder(new PartitionMachine());
    f.produce(['a'], pid(1, 0, 0));
    f.produce(['b'], pid(1, 0, 1));
    f.apply(trim(2));
    expect(f.m.logStartOffset).toBe(2);
    expect(f.produce(['a'], pid(1, 0, 0))).toMatchObject({ ok: true, baseOffset: 0, duplicate: true });
    expect(f.m.nextOffset).toBe(2);
  });

  it('non-idempotent batches are never deduplicated', () => {
    const f = new Feeder(new PartitionMachine());
    f.produce(['a']);
    expect(f.produce(['a'])).toMatchObject({ baseOffset: 1, duplicate: false });
    expect(values(f.m)).toEqual(['a', 'a']);
  });
});

describe('read', () => {
  const sized = (n: number): string => 'x'.repeat(n);
  /** Three batches: offsets 0-2 ("a","b","c"), 3 ("d"), 4-5 ("e","f"). */
  function sample(): Feeder {
    const f = new Feeder(new PartitionMachine());
    f.produce(['a', 'b', 'c']);
    f.produce(['d']);
    f.produce(['e', 'f']);
    return f;
  }

  it('returns the records from the given offset, also from the middle of a batch', () => {
    const m = sample().m;
    for (let o = 0; o <= 5; o++) expect(offsets(m, o), `from ${o}`).toEqual([0, 1, 2, 3, 4, 5].filter((x) => x >= o));
    expect(values(m, 4)).toEqual(['e', 'f']);
  });

  it('at or past the high watermark returns nothing', () => {
    const m = sample().m;
    expect(m.read(6, 1_000).records).toEqual([]);
    expect(m.read(100, 1_000).records).toEqual([]);
    expect(new PartitionMachine().read(0, 1_000).records).toEqual([]);
  });

  it('stops within maxBytes, across batches', () => {
    const m = sample().m;
    const one = recordBytes(rec('a'));
    expect(offsets(m, 0, one)).toEqual([0]);
    expect(offsets(m, 0, 2 * one)).toEqual([0, 1]);
    expect(offsets(m, 0, 4 * one)).toEqual([0, 1, 2, 3]);
    expect(offsets(m, 2, 3 * one - 1)).toEqual([2, 3]);
    expect(offsets(m, 0, 6 * one)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('returns at least one record even if it is larger than maxBytes', () => {
    const f = new Feeder(new PartitionMachine());
    f.produce([sized(1_000), 'small']);
    expect(offsets(f.m, 0, 10)).toEqual([0]);
    expect(offsets(f.m, 0, 1)).toEqual([0]);
    expect(offsets(f.m, 1, 1)).toEqual([1]);
    expect(offsets(f.m, 0, recordBytes(rec(sized(1_000))) + recordBytes(rec('small')))).toEqual([0, 1]);
  });

  it('never returns records below the log start offset', () => {
    const f = sample();
    f.apply(trim(3));
    expect(f.m.logStartOffset).toBe(3);
    expect(offsets(f.m, 0)).toEqual([3, 4, 5]);
    expect(offsets(f.m, 2)).toEqual([3, 4, 5]);
    expect(offsets(f.m, 4)).toEqual([4, 5]);
  });
});

describe('trim (retention)', () => {
  function sample(): Feeder {
    const f = new Feeder(new PartitionMachine());
    f.produce(['a', 'b', 'c']);
    f.produce(['d']);
    f.produce(['e', 'f']);
    return f;
  }

  it('drops whole batches below the target, moves logStartOffset to the first kept batch and frees their bytes', () => {
    const f = sample();
    const full = f.m.retainedBytes;
    const batchBytes = 3 * recordBytes(rec('a'));
    expect(full).toBe(6 * recordBytes(rec('a')));
    f.apply(trim(2));
    // 2 falls inside the first batch (0-2): nothing dropped.
    expect(f.m.logStartOffset).toBe(0);
    expect(f.m.retainedBytes).toBe(full);
    expect(f.m.batchCount).toBe(3);
    f.apply(trim(3));
    expect(f.m.logStartOffset).toBe(3);
    expect(f.m.retainedBytes).toBe(full - batchBytes);
    expect(f.m.batchCount).toBe(2);
    f.apply(trim(5));
    expect(f.m.logStartOffset).toBe(4);
    expect(values(f.m)).toEqual(['e', 'f']);
    expect(f.m.nextOffset).toBe(6);
  });

  it('a trim at or below the log start changes nothing', () => {
    const f = sample();
    f.apply(trim(3));
    const before = view(f.m);
    const cut = f.m.compactableIndex();
    f.apply(trim(3));
    f.apply(trim(0));
    expect(view(f.m)).toEqual(before);
    expect(f.m.compactableIndex()).toBe(cut);
  });

  it('a trim past the high watermark drops everything; offsets continue where they were', () => {
    const f = sample();
    f.apply(trim(1_000));
    expect(f.m.logStartOffset).toBe(6);
    expect(f.m.nextOffset).toBe(6);
    expect(f.m.retainedBytes).toBe(0);
    expect(f.m.batchCount).toBe(0);
    expect(f.m.read(0, 1_000).records).toEqual([]);
    expect(f.produce(['g'])).toMatchObject({ baseOffset: 6 });
    expect(contents(f.m)).toEqual([{ offset: 6, value: 'g' }]);
  });

  it('keeps working after many trims (the batch array is compacted)', () => {
    const f = new Feeder(new PartitionMachine());
    for (let k = 0; k < 3_000; k++) {
      f.produce([`v${k}`]);
      if (k % 2 === 1) f.apply(trim(k));
    }
    // The last trim, to 2999, dropped everything below it.
    expect(f.m.logStartOffset).toBe(2_999);
    expect(values(f.m)).toEqual(['v2999']);
    f.produce(['v3000']);
    expect(contents(f.m)).toEqual([{ offset: 2_999, value: 'v2999' }, { offset: 3_000, value: 'v3000' }]);
    expect(f.m.retainedBytes).toBe(2 * recordBytes(rec('v2999')));
    expect(offsets(f.m, 3_000)).toEqual([3_000]);
    expect(offsets(f.m, 0)).toEqual([2_999, 3_000]);
  });
});

describe('compaction point', () => {
  it('is 0 until a trim, then the Raft index before the first kept batch (or the trim\'s own index if none is kept)', () => {
    const m = new PartitionMachine();
    expect(m.compactableIndex()).toBe(0);
    m.apply(entryOf(1, null));
    m.apply(entryOf(2, produce(['a'])));
    m.apply(entryOf(3, produce(['b'])));
    m.apply(entryOf(4, null));
    m.apply(entryOf(5, produce(['c'])));
    expect(m.compactableIndex()).toBe(0);
    m.apply(entryOf(6, trim(1)));
    expect(m.compactableIndex()).toBe(2);
    m.apply(entryOf(7, trim(2)));
    expect(m.compactableIndex()).toBe(4);
    m.apply(entryOf(8, trim(3)));
    expect(m.compactableIndex()).toBe(8);
    m.apply(entryOf(9, produce(['d'])));
    m.apply(entryOf(10, trim(3)));
    expect(m.compactableIndex()).toBe(8);
  });

  it('a snapshot describes the state at that point; restoring it and replaying the rest gives the same state', () => {
    const m = new PartitionMachine();
    const entries = [produce(['a', 'b'], pid(1, 0, 0)), null, produce(['c']), produce(['d'], pid(1, 0, 2)), trim(2), produce(['e'], pid(1, 0, 3)), null].map((c, k) => entryOf(k + 1, c));
    for (const e of entries) m.apply(e);
    expect(m.compactableIndex()).toBe(2);
    expect(JSON.parse(new TextDecoder().decode(m.snapshot()))).toEqual({
      index: 2, nextOffset: 2, logStartOffset: 2, producers: [[1, { epoch: 0, lastOffset: 0, batches: [{ firstSeq: 0, lastSeq: 1, baseOffset: 0 }] }]],
    });
    const r = new PartitionMachine();
    r.restore(m.snapshot(), m.compactableIndex());
    expect(r.nextOffset).toBe(2);
    expect(r.logStartOffset).toBe(2);
    expect(r.read(0, 1_000).records).toEqual([]);
    for (const e of entries.slice(2)) r.apply(e);
    expect(view(r)).toEqual(view(m));
    expect(r.producers.toJSON()).toEqual(m.producers.toJSON());
    expect(r.snapshot()).toEqual(m.snapshot());
  });
});

describe('retentionTarget', () => {
  /** Batches of one record of `size` value bytes each, with maxTimestamps 100, 200, 300, 400. */
  function aged(size = 10): Feeder {
    const f = new Feeder(new PartitionMachine());
    for (const ts of [100, 200, 300, 400]) f.produce([rec('x'.repeat(size), { timestamp: ts })]);
    return f;
  }
  const per = recordBytes(rec('x'.repeat(10)));

  it('by bytes: the start of the oldest batch that fits within the budget', () => {
    const m = aged().m;
    expect(m.retainedBytes).toBe(4 * per);
    expect(m.retentionTarget(4 * per, -1, 0)).toBeUndefined();
    expect(m.retentionTarget(4 * per - 1, -1, 0)).toBe(1);
    expect(m.retentionTarget(2 * per, -1, 0)).toBe(2);
    expect(m.retentionTarget(per + 1, -1, 0)).toBe(3);
  });

  it('by bytes: the newest batch stays even if it alone is over the budget', () => {
    expect(aged().m.retentionTarget(0, -1, 0)).toBe(3);
    const f = new Feeder(new PartitionMachine());
    f.produce(['x'.repeat(1_000)]);
    expect(f.m.retentionTarget(0, -1, 0)).toBeUndefined();
    expect(new PartitionMachine().retentionTarget(0, 0, 1e12)).toBeUndefined();
  });

  it('by time: drops batches whose newest record is older than now - retention.ms, keeping the newest batch', () => {
    const m = aged().m;
    expect(m.retentionTarget(-1, 1_000, 1_000)).toBeUndefined();
    expect(m.retentionTarget(-1, 850, 1_000)).toBe(1);
    expect(m.retentionTarget(-1, 800, 1_000)).toBe(1);
    expect(m.retentionTarget(-1, 750, 1_000)).toBe(2);
    expect(m.retentionTarget(-1, 0, 1_000_000)).toBe(3);
  });

  it('by time uses the batch\'s largest timestamp (append time for records without one)', () => {
    const f = new Feeder(new PartitionMachine());
    f.produce([rec('a', { timestamp: 10 }), rec('b', { timestamp: 500 })]);
    f.produce([rec('c')], null, 600);
    f.produce([rec('d')], null, 700);
    expect(f.m.retentionTarget(-1, 100, 550)).toBeUndefined();
    expect(f.m.retentionTarget(-1, 100, 650)).toBe(2);
    expect(f.m.retentionTarget(-1, 50, 800)).toBe(3);
  });

  it('-1 for both is unbounded', () => {
    expect(aged().m.retentionTarget(-1, -1, Number.MAX_SAFE_INTEGER)).toBeUndefined();
  });

  it('either limit can trigger; the target drops the union', () => {
    const m = aged().m;
    expect(m.retentionTarget(3 * per, 750, 1_000)).toBe(2);
    expect(m.retentionTarget(per, 850, 1_000)).toBe(3);
  });

  it('counts only retained batches, and its target is a batch boundary a trim can apply', () => {
    const f = aged();
    f.apply(trim(1));
    expect(f.m.retentionTarget(2 * per, -1, 0)).toBe(2);
    const t = f.m.retentionTarget(0, -1, 0) as number;
    f.apply(trim(t));
    expect(f.m.logStartOffset).toBe(t);
    expect(f.m.retainedBytes).toBe(per);
    expect(f.m.retentionTarget(0, 0, 1e12)).toBeUndefined();
  });
});

describe('offsetForTimestamp', () => {
  it('is the first offset whose timestamp is >= ts, or nextOffset if none', () => {
    const f = new Feeder(new PartitionMachine());
    f.produce([rec('a', { timestamp: 100 }), rec('b', { timestamp: 300 }), rec('c', { timestamp: 200 })]);
    f.produce([rec('d')], null, 400);
    f.produce([rec('e', { timestamp: 50 })]);
    expect(f.m.offsetForTimestamp(0)).toBe(0);
    expect(f.m.offsetForTimestamp(100)).toBe(0);
    expect(f.m.offsetForTimestamp(101)).toBe(1);
    expect(f.m.offsetForTimestamp(200)).toBe(1);
    expect(f.m.offsetForTimestamp(301)).toBe(3);
    expect(f.m.offsetForTimestamp(400)).toBe(3);
    expect(f.m.offsetForTimestamp(401)).toBe(5);
    expect(new PartitionMachine().offsetForTimestamp(0)).toBe(0);
  });

  it('ignores trimmed records', () => {
    const f = new Feeder(new PartitionMachine());
    f.produce([rec('a', { timestamp: 100 })]);
    f.produce([rec('b', { timestamp: 50 }), rec('c', { timestamp: 200 })]);
    f.apply(trim(1));
    expect(f.m.offsetForTimestamp(0)).toBe(1);
    expect(f.m.offsetForTimestamp(100)).toBe(2);
    expect(f.m.offsetForTimestamp(201)).toBe(3);
  });
});

describe('outcomes', () => {
  it('are plain values (what the proposer receives)', () => {
    const f = new Feeder(new PartitionMachine());
    const ok = f.produce(['a'], pid(1, 0, 0), 123);
    const dup = f.produce(['a'], pid(1, 0, 0), 456);
    const bad = f.produce(['a'], pid(1, 0, 9), 789);
    expect(ok).toEqual({ ok: true, baseOffset: 0, logAppendTimeMs: 123, duplicate: false } satisfies ApplyOutcome);
    expect(dup).toEqual({ ok: true, baseOffset: 0, logAppendTimeMs: 456, duplicate: true } satisfies ApplyOutcome);
    expect(bad).toEqual({ ok: false, code: 'OUT_OF_ORDER_SEQUENCE', message: expect.any(String) });
  });
});
