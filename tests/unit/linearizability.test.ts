// The linearizability checker on hand-written histories: each anomaly it must catch, each legal
// concurrency it must accept, and the unknown-outcome cases only a correct treatment of timeouts
// gets right (a timed-out operation may take effect at any later point, or never).
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../raft/assert.ts';
import {
  checkLinearizable,
  mapModel,
  registerModel,
  topicsModel,
  type Model,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
  type TopicInput,
  type TopicOutput,
} from '../../sim/linearizability/index.ts';

type RegOp = Operation<RegisterInput<number>, RegisterOutput<number>>;
type TopicOp = Operation<TopicInput, TopicOutput>;

const register = registerModel(0);
const topics = topicsModel();

/** A completed operation over [call, ret]. */
function done<I, O>(clientId: number, call: number, ret: number, input: I, output: O): Operation<I, O> {
  return { clientId, input, call, output, return: ret };
}
/** An operation whose outcome is unknown (timed out / crashed); `gaveUpAt` is when the client stopped waiting. */
function unknown<I, O>(clientId: number, call: number, input: I, gaveUpAt?: number): Operation<I, O> {
  return { clientId, input, call, output: undefined, return: gaveUpAt };
}

const write = (c: number, call: number, ret: number, value: number): RegOp => done(c, call, ret, { type: 'write', value }, { type: 'write' });
const read = (c: number, call: number, ret: number, value: number): RegOp => done(c, call, ret, { type: 'read' }, { type: 'read', value });
const cas = (c: number, call: number, ret: number, expected: number, value: number, ok: boolean): RegOp =>
  done(c, call, ret, { type: 'cas', expected, value }, { type: 'cas', ok });

/** retention.ms of a topic created without one (any fixed value will do). */
const RETENTION_MS = 604_800_000;
const create = (c: number, call: number, ret: number, name: string, partitions: number, created: boolean): TopicOp =>
  done(c, call, ret, { type: 'create', key: name, value: { partitions, retentionMs: RETENTION_MS } }, { type: 'create', created });
const alter = (c: number, call: number, ret: number, name: string, retentionMs: number, existed: boolean): TopicOp =>
  done(c, call, ret, { type: 'update', key: name, value: { retentionMs } }, { type: 'update', existed });
const remove = (c: number, call: number, ret: number, name: string, existed: boolean): TopicOp =>
  done(c, call, ret, { type: 'delete', key: name }, { type: 'delete', existed });
const describeTopic = (c: number, call: number, ret: number, name: string, partitions: number | null, retentionMs = RETENTION_MS): TopicOp =>
  done(c, call, ret, { type: 'get', key: name }, partitions === null ? { type: 'get', found: false } : { type: 'get', found: true, value: { partitions, retentionMs } });
const list = (c: number, call: number, ret: number, names: string[]): TopicOp => done(c, call, ret, { type: 'list' }, { type: 'list', keys: names });

describe('register: linearizable concurrent histories', () => {
  it('accepts reads overlapping a write that see either the old or the new value', () => {
    const h = [write(0, 0, 10, 1), read(1, 2, 8, 0), read(2, 5, 15, 1), read(3, 12, 20, 1)];
    expect(checkLinearizable(register, h).result).toBe('ok');
  });

  it('accepts an old-then-new pair of reads inside one long write', () => {
    const h = [write(0, 0, 100, 1), read(1, 10, 20, 0), read(2, 30, 40, 1)];
    expect(checkLinearizable(register, h).result).toBe('ok');
  });

  it('accepts intervals that touch (equal times overlap)', () => {
    // read returns at 10 and the write is called at 10: they overlap, so the read may see the write.
    expect(checkLinearizable(register, [read(0, 0, 10, 1), write(1, 10, 20, 1)]).result).toBe('ok');
  });

  it('accepts concurrent compare-and-sets when exactly one wins', () => {
    const h = [cas(0, 0, 10, 0, 1, true), cas(1, 5, 15, 0, 2, false), read(2, 20, 30, 1)];
    expect(checkLinearizable(register, h).result).toBe('ok');
  });

  it('accepts an empty history', () => {
    expect(checkLinearizable(register, [])).toMatchObject({ result: 'ok', partitions: 1, steps: 0 });
  });
});

describe('register: anomalies are caught', () => {
  it('rejects a stale read after a completed write', () => {
    const r = checkLinearizable(register, [write(0, 0, 10, 1), read(1, 20, 30, 0)]);
    expect(r.result).toBe('illegal');
    expect(r.explanation).toContain('read() -> 0');
    expect(r.explanation).toContain('write(1) -> ok');
    expect(r.failure?.longestPrefix.map((op) => op.input.type)).toEqual(['write']);
    expect(r.failure?.stuckAt.map((op) => op.input.type)).toEqual(['read']);
  });

  it('rejects a read that observes a value followed by a later read of the older value', () => {
    const h = [write(0, 0, 100, 1), read(1, 10, 20, 1), read(2, 30, 40, 0)];
    const r = checkLinearizable(register, h);
    expect(r.result).toBe('illegal');
    expect(r.explanation).toContain('not linearizable: partition 1 of 1 (3 operations)');
  });

  it('rejects two concurrent compare-and-sets from the same value that both win', () => {
    expect(checkLinearizable(register, [cas(0, 0, 10, 0, 1, true), cas(1, 5, 15, 0, 2, true)]).result).toBe('illegal');
  });

  it('rejects a read of a value nobody wrote', () => {
    expect(checkLinearizable(register, [write(0, 0, 10, 1), read(1, 0, 10, 7)]).result).toBe('illegal');
  });
});

describe('unknown outcomes (timeouts, crashes)', () => {
  it('(a) a write with unknown outcome whose effect a later read observes is linearizable', () => {
    expect(checkLinearizable(register, [unknown(0, 0, { type: 'write', value: 1 }), read(1, 50, 60, 1)]).result).toBe('ok');
  });

  it('(a) ... even when the effect lands after the client gave up waiting', () => {
    // The client gave up at 5; the server applied the write later, between 20 and 50.
    const h = [unknown<RegisterInput<number>, RegisterOutput<number>>(0, 0, { type: 'write', value: 1 }, 5), read(1, 10, 20, 0), read(1, 50, 60, 1)];
    expect(checkLinearizable(register, h).result).toBe('ok');
  });

  it('(b) a write with unknown outcome that is never observed is linearizable', () => {
    const h = [unknown<RegisterInput<number>, RegisterOutput<number>>(0, 0, { type: 'write', value: 1 }), read(1, 50, 60, 0), read(2, 70, 80, 0)];
    expect(checkLinearizable(register, h).result).toBe('ok');
  });

  it('(b) ... but once observed, its effect cannot be undone', () => {
    const h = [unknown<RegisterInput<number>, RegisterOutput<number>>(0, 0, { type: 'write', value: 1 }), read(1, 50, 60, 1), read(2, 70, 80, 0)];
    expect(checkLinearizable(register, h).result).toBe('illegal');
  });

  it('(c) a timed-out create followed by a retry answered ALREADY_EXISTS is linearizable (the first one took effect)', () => {
    const h: TopicOp[] = [
      unknown(0, 0, { type: 'create', key: 'orders', value: { partitions: 3, retentionMs: RETENTION_MS } }, 30),
      create(0, 40, 50, 'orders', 3, false),
      describeTopic(1, 60, 70, 'orders', 3),
    ];
    expect(checkLinearizable(topics, h).result).toBe('ok');
  });

  it('(c) ... whereas without the timed-out create the ALREADY_EXISTS is impossible', () => {
    expect(checkLinearizable(topics, [create(0, 40, 50, 'orders', 3, false)]).result).toBe('illegal');
  });

  it('(d) an unknown-outcome write cannot explain a read that happened entirely before it was called', () => {
    const h = [read(1, 0, 10, 1), unknown<RegisterInput<number>, RegisterOutput<number>>(0, 20, { type: 'write', value: 1 })];
    const r = checkLinearizable(register, h);
    expect(r.result).toBe('illegal');
    // Stuck at the very start: the read must go first, and the write was not even called yet.
    expect(r.failure?.longestPrefix).toEqual([]);
    expect(r.failure?.stuckAt.map((op) => op.input.type)).toEqual(['read']);
  });

  it('an unknown-outcome compare-and-set takes effect only if its condition held', () => {
    const h = [
      write(0, 0, 10, 5),
      unknown<RegisterInput<number>, RegisterOutput<number>>(1, 20, { type: 'cas', expected: 0, value: 1 }),
      read(2, 30, 40, 1),
    ];
    expect(checkLinearizable(register, h).result).toBe('illegal');
  });
});

describe('map / topics model', () => {
  it('rejects two creates of the same name that both return ok', () => {
    const r = checkLinearizable(topics, [create(0, 0, 10, 'a', 1, true), create(1, 5, 15, 'a', 2, true)]);
    expect(r.result).toBe('illegal');
    expect(r.explanation).toContain(`create topic a (1 partitions, retention.ms=${RETENTION_MS}) -> OK`);
  });

  it('accepts create, delete, create of the same name in sequence', () => {
    const h = [create(0, 0, 10, 'a', 1, true), remove(1, 20, 30, 'a', true), create(2, 40, 50, 'a', 2, true), describeTopic(0, 60, 70, 'a', 2)];
    expect(checkLinearizable(topics, h).result).toBe('ok');
  });

  it('rejects a describe that shows a deleted topic after the delete completed', () => {
    const h = [create(0, 0, 10, 'a', 1, true), remove(1, 20, 30, 'a', true), describeTopic(2, 40, 50, 'a', 1)];
    expect(checkLinearizable(topics, h).result).toBe('illegal');
  });

  it('rejects a delete answered UNKNOWN for a topic that certainly exists', () => {
    expect(checkLinearizable(topics, [create(0, 0, 10, 'a', 1, true), remove(1, 20, 30, 'a', false)]).result).toBe('illegal');
  });

  it('an alter keeps the partitions and sets the retention; a describe during it sees either, one after it the new', () => {
    const h = [create(0, 0, 10, 'a', 3, true), alter(1, 20, 40, 'a', 1_000, true), describeTopic(2, 25, 35, 'a', 3), describeTopic(2, 36, 38, 'a', 3, 1_000), describeTopic(0, 50, 60, 'a', 3, 1_000)];
    expect(checkLinearizable(topics, h).result).toBe('ok');
  });

  it('a grow sets the partition count and keeps the retention; a describe after it with the old count is stale', () => {
    const grow = (c: number, call: number, ret: number, name: string, partitions: number): TopicOp =>
      done(c, call, ret, { type: 'update', key: name, value: { partitions } }, { type: 'update', existed: true });
    const h = [create(0, 0, 10, 'a', 2, true), alter(1, 12, 14, 'a', 1_000, true), grow(1, 20, 30, 'a', 4), describeTopic(2, 40, 50, 'a', 4, 1_000)];
    expect(checkLinearizable(topics, h).result).toBe('ok');
    expect(checkLinearizable(topics, [...h.slice(0, 3), describeTopic(2, 40, 50, 'a', 2, 1_000)]).result).toBe('illegal');
  });

  it('rejects a describe that shows the old retention after an alter completed, or the new one before it began', () => {
    const stale = [create(0, 0, 10, 'a', 3, true), alter(1, 20, 30, 'a', 1_000, true), describeTopic(2, 40, 50, 'a', 3)];
    expect(checkLinearizable(topics, stale).result).toBe('illegal');
    const early = [create(0, 0, 10, 'a', 3, true), describeTopic(2, 12, 15, 'a', 3, 1_000), alter(1, 20, 30, 'a', 1_000, true)];
    expect(checkLinearizable(topics, early).result).toBe('illegal');
  });

  it('rejects an alter answered UNKNOWN for a topic that certainly exists, and one answered OK for a deleted topic', () => {
    expect(checkLinearizable(topics, [create(0, 0, 10, 'a', 1, true), alter(1, 20, 30, 'a', 5, false)]).result).toBe('illegal');
    expect(checkLinearizable(topics, [create(0, 0, 10, 'a', 1, true), remove(1, 20, 30, 'a', true), alter(2, 40, 50, 'a', 5, true)]).result).toBe('illegal');
  });

  it('checks each key on its own when there is no list', () => {
    const h = [create(0, 0, 10, 'a', 1, true), create(1, 0, 10, 'b', 1, true), describeTopic(2, 20, 30, 'c', null)];
    expect(checkLinearizable(topics, h)).toMatchObject({ result: 'ok', partitions: 3 });
  });

  it('checks a history with a list as one whole-map partition', () => {
    const h = [create(0, 0, 10, 'a', 1, true), create(1, 5, 25, 'b', 1, true), list(2, 12, 20, ['a']), list(2, 30, 40, ['b', 'a'])];
    expect(checkLinearizable(topics, h)).toMatchObject({ result: 'ok', partitions: 1 });
  });

  it('rejects a list that misses a topic whose create completed before the list was called', () => {
    const h = [create(0, 0, 10, 'a', 1, true), create(1, 0, 10, 'b', 1, true), list(2, 20, 30, ['a'])];
    expect(checkLinearizable(topics, h)).toMatchObject({ result: 'illegal', partitions: 1 });
  });

  it('drops reads whose outcome is unknown: they constrain nothing', () => {
    const h: TopicOp[] = [create(0, 0, 10, 'a', 1, true), unknown(1, 0, { type: 'list' }), unknown(1, 0, { type: 'get', key: 'b' })];
    expect(checkLinearizable(topics, h)).toMatchObject({ result: 'ok', partitions: 1 });
  });

  it('compares values: put then get of another value is a stale read', () => {
    const kv = mapModel<string>();
    const h = [
      done(0, 0, 10, { type: 'put' as const, key: 'k', value: 'x' }, { type: 'put' as const }),
      done(1, 20, 30, { type: 'get' as const, key: 'k' }, { type: 'get' as const, found: true as const, value: 'y' }),
    ];
    expect(checkLinearizable(kv, h).result).toBe('illegal');
  });
});

/** A register a 'flip' sets to 0 or 1 at random: exercises the search's nondeterministic branches. */
type CoinInput = { readonly type: 'flip' } | { readonly type: 'read' };
const coin: Model<number, CoinInput, number | 'ok'> = {
  init: () => -1,
  step: (state, input, output) => (input.type === 'flip' ? [0, 1] : output === undefined || output === state ? [state] : []),
  hash: (state) => String(state),
};

describe('nondeterministic models', () => {
  it('tries every outcome state of a step', () => {
    const h: Operation<CoinInput, number | 'ok'>[] = [
      done(0, 0, 10, { type: 'flip' }, 'ok'),
      done(1, 20, 30, { type: 'read' }, 1),
      done(1, 40, 50, { type: 'read' }, 1),
    ];
    expect(checkLinearizable(coin, h).result).toBe('ok');
  });

  it('still rejects what no outcome explains', () => {
    const h: Operation<CoinInput, number | 'ok'>[] = [
      done(0, 0, 10, { type: 'flip' }, 'ok'),
      done(1, 20, 30, { type: 'read' }, 1),
      done(1, 40, 50, { type: 'read' }, 0),
    ];
    expect(checkLinearizable(coin, h).result).toBe('illegal');
  });
});

/** A counter that refuses to go past 1, even when nobody observes the refusal. */
type CappedInput = { readonly type: 'inc' } | { readonly type: 'read' };
const capped: Model<number, CappedInput, number | 'ok'> = {
  init: () => 0,
  step: (state, input, output) => (input.type === 'inc' ? (state < 1 ? [state + 1] : []) : output === undefined || output === state ? [state] : []),
  hash: (state) => String(state),
};

describe('unknown outcomes in a model that can refuse them', () => {
  it('completes with an unknown operation never linearized, even where it could not go last', () => {
    // The timed-out inc can neither precede the completed one nor follow it, so it never happened.
    const h: Operation<CappedInput, number | 'ok'>[] = [
      unknown(0, 0, { type: 'inc' }),
      done(1, 5, 10, { type: 'inc' }, 'ok'),
      done(2, 20, 30, { type: 'read' }, 1),
    ];
    expect(checkLinearizable(capped, h).result).toBe('ok');
  });
});

describe('budget', () => {
  /** Many overlapping writes and reads: needs far more than a handful of steps. */
  function busyHistory(n: number): RegOp[] {
    const h: RegOp[] = [];
    for (let i = 0; i < n; i++) h.push(i % 2 === 0 ? write(i % 5, i, i + 7, i) : read(i % 5, i, i + 7, i - 1));
    return h;
  }

  it('a tiny stepsMax yields inconclusive, which says it is not a pass', () => {
    const r = checkLinearizable(register, busyHistory(40), { stepsMax: 3 });
    expect(r).toMatchObject({ result: 'inconclusive', steps: 3 });
    expect(r.explanation).toContain('not a pass');
    expect(r.explanation).toContain('stepsMax 3');
  });

  it('the same history within budget is ok', () => {
    expect(checkLinearizable(register, busyHistory(40)).result).toBe('ok');
  });

  it('an exhausted wall-clock budget yields inconclusive', () => {
    const r = checkLinearizable(register, busyHistory(4000), { timeoutMs: 0 });
    expect(r.result).toBe('inconclusive');
    expect(r.explanation).toContain('timeoutMs 0');
  });

  it('step counts are deterministic', () => {
    const a = checkLinearizable(register, busyHistory(200));
    const b = checkLinearizable(register, busyHistory(200));
    expect(a.steps).toBe(b.steps);
    expect(a.steps).toBeGreaterThan(0);
  });
});

describe('malformed histories are programmer errors', () => {
  it('asserts on a completed operation without a return time', () => {
    const bad: RegOp = { clientId: 0, input: { type: 'read' }, call: 0, output: { type: 'read', value: 0 }, return: undefined };
    expect(() => checkLinearizable(register, [bad])).toThrow(AssertionError);
  });

  it('asserts on a return before the call', () => {
    expect(() => checkLinearizable(register, [read(0, 10, 5, 0)])).toThrow(AssertionError);
  });
});
