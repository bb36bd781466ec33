// The metadata log's records (controller/commands.ts): every command survives encode/decode unchanged,
// and decoding anything else — malformed JSON, wrong types, missing fields, unknown types, random
// bytes — gives undefined (a no-op at apply) and never throws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand, type Command } from '../../../controller/commands.ts';
import { nodeId } from '../../../raft/types.ts';
import { ids } from './support.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const decodeJson = (doc: unknown): Command | undefined => decodeCommand(bytes(JSON.stringify(doc)));

const EXAMPLES: readonly Command[] = [
  { type: 'register-broker', broker: nodeId(1), address: '10.0.0.1:9092', incarnation: 0 },
  { type: 'fence-broker', broker: nodeId(2), epoch: 7 },
  { type: 'unfence-broker', broker: nodeId(3), epoch: 0 },
  { type: 'shutdown-broker', broker: nodeId(4), epoch: 12 },
  { type: 'decommission-broker', requestId: 'req-1', broker: nodeId(5) },
  { type: 'create-topic', requestId: 'req-2', name: 'orders', partitions: 6, replicationFactor: 3, configs: { 'retention.ms': '3600000', 'min.insync.replicas': 2 } },
  { type: 'create-topic', requestId: '', name: '', partitions: 0, replicationFactor: 0, configs: {} },
  { type: 'delete-topic', requestId: 'req-3', name: 'orders' },
  { type: 'report-leader', group: 3, leader: nodeId(2), term: 9 },
  { type: 'report-leader', group: 0, leader: nodeId(0), term: 0 },
  { type: 'reassignment-done', group: 4, replicas: ids(1, 2, 4) },
  { type: 'reassignment-done', group: 4, replicas: [] },
  { type: 'init-producer-id', requestId: 'req-4' },
  { type: 'commit-offsets', consumerGroup: 'billing', topic: 'orders', topicId: 4, offsets: [{ partition: 0, offset: 12 }, { partition: 3, offset: 0 }] },
  { type: 'commit-offsets', consumerGroup: '', topic: '', topicId: 1, offsets: [] },
  { type: 'member-heartbeat', consumerGroup: 'billing', memberId: 'm-1', topic: 'orders', topicId: 4, owned: [0, 2] },
  { type: 'member-heartbeat', consumerGroup: 'billing', memberId: 'm-2', topic: 'orders', topicId: 4, owned: [] },
  { type: 'leave-group', consumerGroup: 'billing', memberId: 'm-1' },
  { type: 'expire-group', consumerGroup: 'billing', changedAt: 41 },
];

const id = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }).map(nodeId);
const count = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const requestId = fc.string({ maxLength: 1_024, unit: 'grapheme-ascii' });
const anyCommand: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ type: fc.constant('register-broker' as const), broker: id, address: fc.string({ maxLength: 1_024 }), incarnation: count }),
  fc.record({ type: fc.constantFrom('fence-broker' as const, 'unfence-broker' as const, 'shutdown-broker' as const), broker: id, epoch: count }),
  fc.record({ type: fc.constant('decommission-broker' as const), requestId, broker: id }),
  fc.record({
    type: fc.constant('create-topic' as const), requestId, name: fc.string(), partitions: fc.integer(), replicationFactor: fc.integer(),
    configs: fc.dictionary(fc.string(), fc.oneof(fc.integer(), fc.string())),
  }),
  fc.record({ type: fc.constant('delete-topic' as const), requestId, name: fc.string() }),
  fc.record({ type: fc.constant('report-leader' as const), group: count, leader: count.map(nodeId), term: count }),
  fc.record({ type: fc.constant('reassignment-done' as const), group: count, replicas: fc.array(id, { maxLength: 9 }) }),
  fc.record({ type: fc.constant('init-producer-id' as const), requestId }),
  fc.record({ type: fc.constant('commit-offsets' as const), consumerGroup: fc.string(), topic: fc.string(), topicId: id, offsets: fc.array(fc.record({ partition: fc.integer(), offset: fc.integer() }), { maxLength: 5 }) }),
  fc.record({ type: fc.constant('member-heartbeat' as const), consumerGroup: fc.string(), memberId: fc.string(), topic: fc.string(), topicId: id, owned: fc.array(count, { maxLength: 5 }) }),
  fc.record({ type: fc.constant('leave-group' as const), consumerGroup: fc.string(), memberId: fc.string() }),
  fc.record({ type: fc.constant('expire-group' as const), consumerGroup: fc.string(), changedAt: count }),
);

describe('encodeCommand / decodeCommand', () => {
  it('covers every command type in the examples', () => {
    expect(new Set(EXAMPLES.map((c) => c.type))).toEqual(new Set(['register-broker', 'fence-broker', 'unfence-broker', 'shutdown-broker', 'decommission-broker', 'create-topic', 'delete-topic', 'report-leader', 'reassignment-done', 'init-producer-id', 'commit-offsets', 'member-heartbeat', 'leave-group', 'expire-group']));
  });

  it.each(EXAMPLES.map((c) => [c.type, c] as const))('round-trips %s', (_type, c) => {
    expect(decodeCommand(encodeCommand(c))).toEqual(c);
  });

  it('encodes as UTF-8 JSON', () => {
    const c: Command = { type: 'delete-topic', requestId: 'r', name: 'x' };
    expect(JSON.parse(new TextDecoder().decode(encodeCommand(c)))).toEqual(c);
  });

  it('property: every well-formed command round-trips', () => {
    fc.assert(fc.property(anyCommand, (c) => {
      expect(decodeCommand(encodeCommand(c))).toEqual(c);
    }), { numRuns: 2_000 });
  });
});

describe('decodeCommand refuses what is not a command', () => {
  it.each([
    ['empty', ''],
    ['truncated JSON', '{"type":"fence-broker","broker":1,'],
    ['not JSON', 'fence-broker 1 2'],
    ['a JSON string', '"fence-broker"'],
    ['a JSON number', '42'],
    ['null', 'null'],
    ['true', 'true'],
    ['an array', '[{"type":"init-producer-id","requestId":"r"}]'],
    ['an object without type', '{"requestId":"r"}'],
    ['trailing garbage', '{"type":"init-producer-id","requestId":"r"}x'],
  ])('%s', (_what, text) => {
    expect(decodeCommand(bytes(text))).toBeUndefined();
  });

  it('invalid UTF-8', () => {
    expect(decodeCommand(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toBeUndefined();
    // A valid command with one byte replaced by a lone continuation byte.
    const good = encodeCommand({ type: 'init-producer-id', requestId: 'rr' });
    good[good.length - 4] = 0x80;
    expect(decodeCommand(good)).toBeUndefined();
  });

  it.each(['', 'unknown', 'Register-Broker', 'register_broker', 'createTopic', 'toString', '__proto__', 'constructor'])('unknown type %j', (type) => {
    expect(decodeJson({ type, requestId: 'r', broker: 1, epoch: 1, name: 'x' })).toBeUndefined();
  });

  it('a non-string type', () => {
    expect(decodeJson({ type: 1, requestId: 'r' })).toBeUndefined();
    expect(decodeJson({ type: ['init-producer-id'], requestId: 'r' })).toBeUndefined();
  });

  // Each valid example with one field removed, or replaced by a value of the wrong type or range.
  const BAD_VALUES: Record<string, readonly unknown[]> = {
    broker: [0, -1, 1.5, '1', null, true, Number.MAX_SAFE_INTEGER + 2],
    epoch: [-1, 1.5, '1', null],
    incarnation: [-1, 0.5, '1', null],
    address: [1, null, ['a'], 'a'.repeat(1_025)],
    requestId: [1, null, {}, 'r'.repeat(1_025)],
    name: [1, null, ['orders']],
    partitions: ['6', null, [6]],
    replicationFactor: ['3', null],
    configs: [null, 'retention.ms=1', 5],
    group: [-1, 1.5, '3', null],
    leader: [-1, 1.5, '2', null],
    term: [-1, 2.5, '9', null],
    replicas: [null, [0], [1, -2], [1, '2'], [1.5], '1,2', {}],
    consumerGroup: [1, null, ['g']],
    topicId: [0, -1, 1.5, '1', null],
    topic: [1, null, ['orders']],
    offsets: [null, {}, '1', [null], [{ partition: '0', offset: 1 }], [{ partition: 0 }], [{ offset: 1 }]],
    memberId: [1, null, ['m']],
    owned: [null, {}, '0', [-1], [1.5], ['0']],
    changedAt: [-1, 1.5, '3', null],
  };

  for (const c of EXAMPLES) {
    const fields = Object.keys(c).filter((k) => k !== 'type');
    for (const field of fields) {
      it(`${c.type} without ${field}`, () => {
        const doc: Record<string, unknown> = { ...c };
        delete doc[field];
        expect(decodeJson(doc)).toBeUndefined();
      });
      for (const v of BAD_VALUES[field] ?? []) {
        it(`${c.type} with ${field} = ${JSON.stringify(v).slice(0, 30)}`, () => {
          expect(decodeJson({ ...c, [field]: v })).toBeUndefined();
        });
      }
    }
  }

  it('commit-offsets takes an optional member id, a string', () => {
    const commit = { type: 'commit-offsets', consumerGroup: 'billing', topic: 'orders', topicId: 4, offsets: [{ partition: 1, offset: 3 }] };
    expect(decodeJson({ ...commit, memberId: 'm-1' })).toEqual({ ...commit, memberId: 'm-1' });
    expect(decodeJson({ ...commit, memberId: 7 })).toBeUndefined();
  });

  it('accepts register-broker with an address of exactly 1,024 characters and refuses 1,025', () => {
    expect(decodeJson({ type: 'register-broker', broker: 1, address: 'a'.repeat(1_024), incarnation: 1 })).toBeDefined();
    expect(decodeJson({ type: 'register-broker', broker: 1, address: 'a'.repeat(1_025), incarnation: 1 })).toBeUndefined();
  });

  it('property: random bytes never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (b) => {
      expect(() => decodeCommand(b)).not.toThrow();
    }), { numRuns: 5_000 });
  });

  it('property: random JSON never throws, and anything decoded has a known type and survives re-encoding', () => {
    const known = new Set(EXAMPLES.map((c) => c.type));
    const docs = fc.oneof(
      fc.jsonValue(),
      fc.record({ type: fc.constantFrom(...known) }, { requiredKeys: ['type'] }).chain((base) => fc.dictionary(fc.constantFrom('requestId', 'broker', 'epoch', 'incarnation', 'address', 'name', 'partitions', 'replicationFactor', 'configs', 'group', 'leader', 'term', 'replicas'), fc.jsonValue()).map((d) => ({ ...d, ...base }))),
    );
    fc.assert(fc.property(docs, (doc) => {
      let got: Command | undefined;
      expect(() => { got = decodeJson(doc); }).not.toThrow();
      if (got !== undefined) {
        expect(known.has(got.type)).toBe(true);
        expect(decodeCommand(encodeCommand(got))).toEqual(got);
      }
    }), { numRuns: 3_000 });
  });

  it('property: flipping bytes of a valid record never throws', () => {
    fc.assert(fc.property(fc.constantFrom(...EXAMPLES), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (c, flips) => {
      const b = encodeCommand(c);
      for (const [at, v] of flips) b[at % b.length] = v;
      expect(() => decodeCommand(b)).not.toThrow();
    }), { numRuns: 3_000 });
  });
});
