// The in-flight window of MsgApps to one follower (raft/tracker/inflights.ts): bounded by message count
// and by bytes, freed by acknowledgements (freeLE). Targeted cases plus a model test against an array.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../raft/assert.ts';
import { Inflights } from '../../raft/tracker/inflights.ts';
import type { Index } from '../../raft/types.ts';

const i = (n: number): Index => n as Index;

describe('Inflights', () => {
  it('is full once messagesMax messages are in flight, and refuses one more', () => {
    const f = new Inflights(3, 0);
    f.add(i(1), 10);
    f.add(i(2), 10);
    expect(f.full()).toBe(false);
    f.add(i(5), 10);
    expect(f.full()).toBe(true);
    expect(f.count).toBe(3);
    expect(() => f.add(i(6), 1)).toThrow(AssertionError);
  });

  it('is full once the bytes in flight reach bytesMax; a single large message may exceed it', () => {
    const f = new Inflights(10, 100);
    f.add(i(1), 40);
    f.add(i(2), 40);
    expect(f.full()).toBe(false);
    f.add(i(3), 30);
    expect(f.bytes).toBe(110);
    expect(f.full()).toBe(true);
    const big = new Inflights(10, 100);
    big.add(i(1), 500);
    expect(big.full()).toBe(true);
    expect(big.count).toBe(1);
  });

  it('with bytesMax 0 bounds only the count', () => {
    const f = new Inflights(2, 0);
    f.add(i(1), 1 << 30);
    expect(f.full()).toBe(false);
    f.add(i(2), 1 << 30);
    expect(f.full()).toBe(true);
  });

  it('freeLE(to) frees exactly the messages ending at or below `to`, with their bytes', () => {
    const f = new Inflights(8, 0);
    [[2, 5], [4, 7], [7, 11], [9, 13]].forEach(([last, size]) => f.add(i(last!), size!));
    f.freeLE(i(1));
    expect([f.count, f.bytes]).toEqual([4, 36]);
    f.freeLE(i(5));
    expect([f.count, f.bytes]).toEqual([2, 24]);
    f.freeLE(i(7));
    expect([f.count, f.bytes]).toEqual([1, 13]);
    // A stale (lower) acknowledgement frees nothing more.
    f.freeLE(i(3));
    expect([f.count, f.bytes]).toEqual([1, 13]);
    f.freeLE(i(100));
    expect([f.count, f.bytes]).toEqual([0, 0]);
    expect(f.full()).toBe(false);
  });

  it('frees a full window and refills it across the ring buffer boundary', () => {
    const f = new Inflights(3, 0);
    let last = 0;
    for (let round = 0; round < 5; round++) {
      while (!f.full()) f.add(i(++last), 1);
      f.freeLE(i(last - 1));
      expect(f.count).toBe(1);
    }
    f.freeLE(i(last));
    expect(f.count).toBe(0);
  });

  it('requires the last indexes of messages to increase', () => {
    const f = new Inflights(4, 0);
    f.add(i(5), 1);
    expect(() => f.add(i(5), 1)).toThrow(AssertionError);
    expect(() => f.add(i(4), 1)).toThrow(AssertionError);
  });

  it('reset empties the window; clone is an independent copy', () => {
    const f = new Inflights(4, 50);
    f.add(i(1), 20);
    f.add(i(2), 20);
    const c = f.clone();
    f.freeLE(i(1));
    expect([c.count, c.bytes]).toEqual([2, 40]);
    c.add(i(3), 20);
    expect(c.full()).toBe(true);
    expect(f.count).toBe(1);
    f.reset();
    expect([f.count, f.bytes, f.full()]).toEqual([0, 0, false]);
    f.add(i(1), 1);
    expect(f.count).toBe(1);
  });

  it('matches an array model under random adds, acknowledgements and resets', () => {
    type Op = { k: 'add'; step: number; size: number } | { k: 'free'; back: number } | { k: 'reset' };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ k: fc.constant('add' as const), step: fc.integer({ min: 1, max: 3 }), size: fc.nat(40) }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('free' as const), back: fc.integer({ min: -2, max: 8 }) }) },
      { weight: 1, arbitrary: fc.constant<Op>({ k: 'reset' }) },
    );
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.nat(120), fc.array(opArb, { maxLength: 80, size: 'max' }), (messagesMax, bytesMax, ops) => {
      const f = new Inflights(messagesMax, bytesMax);
      let model: { last: number; size: number }[] = [];
      let last = 0;
      const modelFull = (): boolean => model.length === messagesMax || (bytesMax > 0 && model.reduce((s, m) => s + m.size, 0) >= bytesMax);
      for (const op of ops) {
        if (op.k === 'add') {
          if (modelFull()) continue;
          last += op.step;
          f.add(i(last), op.size);
          model.push({ last, size: op.size });
        } else if (op.k === 'free') {
          const to = last - op.back;
          f.freeLE(i(to));
          model = model.filter((m) => m.last > to);
        } else {
          f.reset();
          model = [];
        }
        expect(f.count).toBe(model.length);
        expect(f.bytes).toBe(model.reduce((s, m) => s + m.size, 0));
        expect(f.full()).toBe(modelFull());
        expect(f.count).toBeLessThanOrEqual(messagesMax);
      }
    }), { numRuns: 2000 });
  });
});
