// Idempotent producer state (broker/partition/producer-state.ts): a new producer (or a new epoch)
// starts at sequence 0, batches follow each other, a retry of any of the last five batches is answered
// with its original offset, older retries and gaps are OUT_OF_ORDER_SEQUENCE, an older epoch is fenced,
// the least recently active producer is forgotten beyond PRODUCERS_PER_PARTITION_MAX (deterministically),
// and toJSON/fromJSON keep everything.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BATCHES_PER_PRODUCER, PRODUCERS_PER_PARTITION_MAX, ProducerTable, type SequenceCheck,
} from '../../../broker/partition/producer-state.ts';

/** Checks a batch and, if it is to be appended, records it at `offset`; returns the check. */
function send(t: ProducerTable, id: number, epoch: number, firstSeq: number, count: number, offset: number): SequenceCheck {
  const c = t.check(id, epoch, firstSeq, count);
  if (c.kind === 'append') t.record({ producerId: id, epoch, batch: { firstSeq, lastSeq: firstSeq + count - 1, baseOffset: offset } });
  return c;
}

const codeOf = (c: SequenceCheck): string => (c.kind === 'error' ? c.code : c.kind);

describe('sequences', () => {
  it('a new producer must start at sequence 0', () => {
    const t = new ProducerTable();
    expect(t.check(1, 0, 1, 1)).toMatchObject({ kind: 'error', code: 'OUT_OF_ORDER_SEQUENCE' });
    expect(t.check(1, 0, 5, 3)).toMatchObject({ kind: 'error', code: 'OUT_OF_ORDER_SEQUENCE' });
    expect(t.check(1, 0, 0, 3)).toEqual({ kind: 'append' });
    expect(t.check(1, 7, 0, 1)).toEqual({ kind: 'append' });
    // check() alone changes nothing.
    expect(t.entries.size).toBe(0);
  });

  it('appends in order, batch after batch', () => {
    const t = new ProducerTable();
    expect(send(t, 1, 0, 0, 3, 0)).toEqual({ kind: 'append' });
    expect(send(t, 1, 0, 3, 1, 3)).toEqual({ kind: 'append' });
    expect(send(t, 1, 0, 4, 10, 4)).toEqual({ kind: 'append' });
    expect(t.check(1, 0, 14, 1)).toEqual({ kind: 'append' });
    expect(t.entries.get(1)).toEqual({ epoch: 0, lastOffset: 4, batches: [
      { firstSeq: 0, lastSeq: 2, baseOffset: 0 }, { firstSeq: 3, lastSeq: 3, baseOffset: 3 }, { firstSeq: 4, lastSeq: 13, baseOffset: 4 },
    ] });
  });

  it('producers are independent', () => {
    const t = new ProducerTable();
    send(t, 1, 0, 0, 2, 0);
    expect(t.check(2, 0, 2, 1)).toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE' });
    expect(send(t, 2, 0, 0, 1, 2)).toEqual({ kind: 'append' });
    expect(t.check(1, 0, 2, 1)).toEqual({ kind: 'append' });
    expect(t.check(2, 0, 1, 1)).toEqual({ kind: 'append' });
  });

  it('a retry of any of the last five batches is a duplicate with its original offset', () => {
    const t = new ProducerTable();
    let seq = 0;
    const sent: { firstSeq: number; count: number; offset: number }[] = [];
    for (let k = 0; k < 8; k++) {
      const count = 1 + (k % 3);
      const offset = 100 + 10 * k;
      expect(send(t, 5, 2, seq, count, offset)).toEqual({ kind: 'append' });
      sent.push({ firstSeq: seq, count, offset });
      seq += count;
    }
    expect(t.entries.get(5)?.batches).toHaveLength(BATCHES_PER_PRODUCER);
    sent.forEach((b, k) => {
      const c = t.check(5, 2, b.firstSeq, b.count);
      if (k >= sent.length - BATCHES_PER_PRODUCER) expect(c, `batch ${k}`).toEqual({ kind: 'duplicate', baseOffset: b.offset });
      else expect(c, `batch ${k}`).toMatchObject({ kind: 'error', code: 'OUT_OF_ORDER_SEQUENCE' });
    });
  });

  it('a retry must match a batch exactly (same first and last sequence) to be a duplicate', () => {
    const t = new ProducerTable();
    send(t, 1, 0, 0, 3, 0);
    send(t, 1, 0, 3, 3, 3);
    expect(t.check(1, 0, 0, 3)).toEqual({ kind: 'duplicate', baseOffset: 0 });
    expect(t.check(1, 0, 0, 2)).toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE' });
    expect(t.check(1, 0, 0, 6)).toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE' });
    expect(t.check(1, 0, 1, 2)).toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE' });
    expect(t.check(1, 0, 3, 3)).toEqual({ kind: 'duplicate', baseOffset: 3 });
    expect(t.check(1, 0, 3, 4)).toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE' });
  });

  it('a gap is OUT_OF_ORDER_SEQUENCE and changes nothing', () => {
    const t = new ProducerTable();
    send(t, 1, 0, 0, 2, 0);
    const before = JSON.stringify(t.toJSON());
    const c = t.check(1, 0, 3, 1);
    expect(c).toMatchObject({ kind: 'error', code: 'OUT_OF_ORDER_SEQUENCE' });
    if (c.kind === 'error') expect(c.message).toMatch(/expected 2/);
    expect(JSON.stringify(t.toJSON())).toBe(before);
    expect(t.check(1, 0, 2, 1)).toEqual({ kind: 'append' });
  });

  it('an older epoch is fenced with INVALID_PRODUCER_EPOCH, even for a retry of a stored batch', () => {
    const t = new ProducerTable();
    send(t, 1, 3, 0, 1, 0);
    expect(t.check(1, 2, 0, 1)).toMatchObject({ kind: 'error', code: 'INVALID_PRODUCER_EPOCH' });
    expect(t.check(1, 2, 1, 1)).toMatchObject({ kind: 'error', code: 'INVALID_PRODUCER_EPOCH' });
    expect(t.check(1, 0, 0, 1)).toMatchObject({ kind: 'error', code: 'INVALID_PRODUCER_EPOCH' });
  });

  it('a newer epoch resets the producer: it must start at 0, and old batches are no longer duplicates', () => {
    const t = new ProducerTable();
    send(t, 1, 0, 0, 2, 0);
    send(t, 1, 0, 2, 2, 2);
    expect(t.check(1, 1, 4, 1)).toMatchObject({ kind: 'error', code: 'OUT_OF_ORDER_SEQUENCE' });
    expect(t.check(1, 1, 2, 2)).toMatchObject({ kind: 'error', code: 'OUT_OF_ORDER_SEQUENCE' });
    expect(send(t, 1, 1, 0, 2, 10)).toEqual({ kind: 'append' });
    expect(t.entries.get(1)).toEqual({ epoch: 1, lastOffset: 10, batches: [{ firstSeq: 0, lastSeq: 1, baseOffset: 10 }] });
    // The new epoch's batch 0..1 is the duplicate now, at its new offset; the old epoch is fenced.
    expect(t.check(1, 1, 0, 2)).toEqual({ kind: 'duplicate', baseOffset: 10 });
    expect(t.check(1, 1, 2, 1)).toEqual({ kind: 'append' });
    expect(t.check(1, 0, 4, 1)).toMatchObject({ code: 'INVALID_PRODUCER_EPOCH' });
  });

  it('an in-order stream: retries within the window are duplicates, older are refused, gaps are refused (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 20 }),
      fc.nat(), fc.integer({ min: 1, max: 5 }),
      (counts, pick, gap) => {
        const t = new ProducerTable();
        const sent: { firstSeq: number; count: number; offset: number }[] = [];
        let seq = 0;
        let offset = 0;
        for (const count of counts) {
          expect(send(t, 42, 1, seq, count, offset)).toEqual({ kind: 'append' });
          sent.push({ firstSeq: seq, count, offset });
          seq += count;
          offset += count + 1;
        }
        const k = pick % sent.length;
        const b = sent[k] as { firstSeq: number; count: number; offset: number };
        const c = t.check(42, 1, b.firstSeq, b.count);
        if (k >= sent.length - BATCHES_PER_PRODUCER) expect(c).toEqual({ kind: 'duplicate', baseOffset: b.offset });
        else expect(codeOf(c)).toBe('OUT_OF_ORDER_SEQUENCE');
        expect(codeOf(t.check(42, 1, seq + gap, 1))).toBe('OUT_OF_ORDER_SEQUENCE');
        expect(codeOf(t.check(42, 1, seq, 1))).toBe('append');
        expect(codeOf(t.check(42, 0, seq, 1))).toBe('INVALID_PRODUCER_EPOCH');
      },
    ), { numRuns: 300 });
  });
});

describe('eviction', () => {
  it(`forgets the least recently active producer beyond ${PRODUCERS_PER_PARTITION_MAX}`, () => {
    const t = new ProducerTable();
    let offset = 0;
    for (let id = 0; id < PRODUCERS_PER_PARTITION_MAX; id++) send(t, id, 0, 0, 1, offset++);
    expect(t.entries.size).toBe(PRODUCERS_PER_PARTITION_MAX);
    // Producer 0 becomes the most recently active; producer 1 is now the least.
    send(t, 0, 0, 1, 1, offset++);
    send(t, PRODUCERS_PER_PARTITION_MAX, 0, 0, 1, offset++);
    expect(t.entries.size).toBe(PRODUCERS_PER_PARTITION_MAX);
    expect(t.entries.has(0)).toBe(true);
    expect(t.entries.has(1)).toBe(false);
    expect(t.entries.has(PRODUCERS_PER_PARTITION_MAX)).toBe(true);
    send(t, PRODUCERS_PER_PARTITION_MAX + 1, 0, 0, 1, offset++);
    expect(t.entries.has(2)).toBe(false);
    // A forgotten producer is a new one: its next sequence is refused, sequence 0 is accepted.
    expect(t.check(1, 0, 1, 1)).toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE' });
    expect(t.check(1, 0, 0, 1)).toEqual({ kind: 'append' });
    // The remembered one still deduplicates.
    expect(t.check(0, 0, 1, 1)).toEqual({ kind: 'duplicate', baseOffset: PRODUCERS_PER_PARTITION_MAX });
  });

  it('does not depend on the order producers were inserted (ties broken by the smaller id)', () => {
    const ids = Array.from({ length: PRODUCERS_PER_PARTITION_MAX }, (_, k) => k + 1);
    const build = (order: readonly number[]): ProducerTable => {
      const t = new ProducerTable();
      // All at the same offset: a tie everywhere (only the planted offsetsAtAppend bug makes this happen).
      for (const id of order) t.record({ producerId: id, epoch: 0, batch: { firstSeq: 0, lastSeq: 0, baseOffset: 5 } });
      t.record({ producerId: 999_999, epoch: 0, batch: { firstSeq: 0, lastSeq: 0, baseOffset: 6 } });
      return t;
    };
    const forward = build(ids);
    const backward = build([...ids].reverse());
    expect(forward.entries.has(1)).toBe(false);
    expect(backward.entries.has(1)).toBe(false);
    expect(forward.toJSON()).toEqual(backward.toJSON());
  });

  it('a restored table evicts the same producer as the original', () => {
    const t = new ProducerTable();
    // Inserted in an order that differs from toJSON's sorted order.
    for (let k = 0; k < PRODUCERS_PER_PARTITION_MAX; k++) {
      const id = (k * 7_919) % PRODUCERS_PER_PARTITION_MAX;
      t.record({ producerId: id, epoch: 0, batch: { firstSeq: 0, lastSeq: 0, baseOffset: 1_000 + ((k * 31) % 977) + k * 1_000 } });
    }
    const r = ProducerTable.fromJSON(t.toJSON());
    for (let n = 0; n < 5; n++) {
      const u = { producerId: 50_000 + n, epoch: 0, batch: { firstSeq: 0, lastSeq: 0, baseOffset: 100_000_000 + n } };
      t.record(u);
      r.record(u);
    }
    expect(r.toJSON()).toEqual(t.toJSON());
    expect(t.entries.size).toBe(PRODUCERS_PER_PARTITION_MAX);
  });
});

describe('serialization', () => {
  it('toJSON is sorted by producer id and fromJSON restores every answer', () => {
    const t = new ProducerTable();
    send(t, 9, 0, 0, 1, 0);
    send(t, 3, 2, 0, 2, 1);
    send(t, 3, 2, 2, 2, 3);
    send(t, 9, 0, 1, 1, 5);
    send(t, 1, 0, 0, 1, 6);
    const rows = t.toJSON();
    expect(rows.map(([id]) => id)).toEqual([1, 3, 9]);
    const r = ProducerTable.fromJSON(JSON.parse(JSON.stringify(rows)) as typeof rows);
    expect(r.toJSON()).toEqual(rows);
    for (const [id, epoch, seq, count] of [[9, 0, 0, 1], [9, 0, 1, 1], [9, 0, 2, 1], [3, 2, 2, 2], [3, 1, 4, 1], [3, 2, 5, 1], [1, 0, 1, 1], [4, 0, 0, 1]] as const) {
      expect(r.check(id, epoch, seq, count)).toEqual(t.check(id, epoch, seq, count));
    }
  });

  it('fromJSON and clone copy: changing the copy leaves the original alone', () => {
    const t = new ProducerTable();
    send(t, 1, 0, 0, 1, 0);
    const rows = t.toJSON();
    const c = t.clone();
    send(c, 1, 0, 1, 1, 1);
    send(c, 2, 0, 0, 1, 2);
    expect(t.toJSON()).toEqual(rows);
    expect(t.entries.get(1)?.batches).toHaveLength(1);
    const r = ProducerTable.fromJSON(rows);
    send(r, 1, 0, 1, 1, 1);
    expect(t.entries.get(1)?.batches).toHaveLength(1);
  });

  it('round trip after any history answers every check alike (property)', () => {
    const op = fc.record({ id: fc.integer({ min: 1, max: 4 }), epoch: fc.integer({ min: 0, max: 2 }), seq: fc.integer({ min: 0, max: 12 }), count: fc.integer({ min: 1, max: 3 }) });
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), fc.array(op, { maxLength: 20 }), (history, probes) => {
      const t = new ProducerTable();
      let offset = 0;
      for (const o of history) {
        if (send(t, o.id, o.epoch, o.seq, o.count, offset).kind === 'append') offset += o.count;
      }
      const r = ProducerTable.fromJSON(JSON.parse(JSON.stringify(t.toJSON())) as ReturnType<ProducerTable['toJSON']>);
      for (const p of probes) {
        expect(r.check(p.id, p.epoch, p.seq, p.count)).toEqual(t.check(p.id, p.epoch, p.seq, p.count));
        const a = send(t, p.id, p.epoch, p.seq, p.count, offset);
        send(r, p.id, p.epoch, p.seq, p.count, offset);
        if (a.kind === 'append') offset += p.count;
      }
      expect(r.toJSON()).toEqual(t.toJSON());
    }), { numRuns: 300 });
  });
});
