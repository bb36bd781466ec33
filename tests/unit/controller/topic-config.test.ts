// Topic names, partition counts, replication factors and topic configs (controller/topic-config.ts):
// what is accepted, what is refused with which stable code, and the documented defaults.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PARTITIONS_MAX, TOPIC_CONFIG_DEFAULTS, TOPIC_NAME_CHARS_MAX, resolveTopicConfig, validatePartitions,
  validateReplicationFactor, validateTopicName, type TopicConfig,
} from '../../../controller/topic-config.ts';
import { codeOf, valueOf } from './support.ts';

const LEGAL_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-';
const CONFIG_KEYS = ['retention.ms', 'retention.bytes', 'max.message.bytes', 'min.insync.replicas'] as const;

describe('validateTopicName', () => {
  it.each(['a', 'orders', 'Orders.v2', 'user_events-2024', '...', '.hidden', '-', '_', '0', 'a..b', 'x'.repeat(249)])('accepts %j', (name) => {
    expect(validateTopicName(name)).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['"."', '.'],
    ['".."', '..'],
    ['250 characters', 'x'.repeat(250)],
    ['a slash', 'a/b'],
    ['a space', 'a b'],
    ['a leading space', ' a'],
    ['a trailing newline', 'orders\n'],
    ['a tab', 'a\tb'],
    ['a colon', 'a:b'],
    ['a plus', 'a+b'],
    ['a backslash', 'a\\b'],
    ['an asterisk', 'a*'],
    ['a NUL', 'a\u0000b'],
    ['unicode letters', 'café'],
    ['an emoji', 'orders🔥'],
    ['cyrillic look-alikes', 'оrders'],
    ['a non-breaking space', 'a\u00a0b'],
  ])('refuses %s with INVALID_TOPIC', (_what, name) => {
    expect(codeOf(validateTopicName(name))).toBe('INVALID_TOPIC');
  });

  it('the length limit is TOPIC_NAME_CHARS_MAX = 249, counted in characters', () => {
    expect(TOPIC_NAME_CHARS_MAX).toBe(249);
    expect(validateTopicName('a'.repeat(TOPIC_NAME_CHARS_MAX))).toBeNull();
    expect(codeOf(validateTopicName('a'.repeat(TOPIC_NAME_CHARS_MAX + 1)))).toBe('INVALID_TOPIC');
  });

  it.each([undefined, null, 42, ['orders'], { name: 'orders' }, true])('refuses a non-string %j with INVALID_TOPIC', (name) => {
    expect(codeOf(validateTopicName(name))).toBe('INVALID_TOPIC');
  });

  it('property: accepted iff 1..249 characters of [a-zA-Z0-9._-] and not "." or ".."', () => {
    const reference = (s: string): boolean => s.length >= 1 && s.length <= 249 && s !== '.' && s !== '..' && [...s].every((ch) => LEGAL_CHARS.includes(ch));
    const names = fc.oneof(
      fc.string({ unit: fc.constantFrom(...LEGAL_CHARS), minLength: 0, maxLength: 260 }),
      fc.string({ unit: fc.constantFrom('.', 'a'), maxLength: 3 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
    );
    fc.assert(fc.property(names, (name) => {
      const err = validateTopicName(name);
      expect(err === null).toBe(reference(name));
      if (err !== null) expect(err.code).toBe('INVALID_TOPIC');
    }), { numRuns: 2_000 });
  });
});

describe('validatePartitions', () => {
  it.each([1, 2, 10_000])('accepts %d', (n) => {
    expect(validatePartitions(n)).toBeNull();
  });

  it.each([0, -1, 10_001, 1.5, 0.5, NaN, Infinity, -Infinity, 2 ** 53, '1', '10', null, undefined, [1], true])('refuses %j with INVALID_PARTITIONS', (n) => {
    expect(codeOf(validatePartitions(n))).toBe('INVALID_PARTITIONS');
  });

  it('the limit is PARTITIONS_MAX = 10,000', () => {
    expect(PARTITIONS_MAX).toBe(10_000);
  });

  it('property: accepted iff an integer in [1, 10000]', () => {
    fc.assert(fc.property(fc.oneof(fc.integer({ min: -20, max: 10_020 }), fc.double(), fc.integer()), (n) => {
      const accepted = validatePartitions(n) === null;
      expect(accepted).toBe(Number.isInteger(n) && n >= 1 && n <= PARTITIONS_MAX);
    }), { numRuns: 2_000 });
  });
});

describe('validateReplicationFactor', () => {
  it('accepts 1 up to the number of live brokers', () => {
    for (let live = 1; live <= 9; live++) for (let rf = 1; rf <= live; rf++) expect(validateReplicationFactor(rf, live)).toBeNull();
  });

  it('refuses more replicas than live brokers with INVALID_REPLICATION_FACTOR', () => {
    expect(codeOf(validateReplicationFactor(4, 3))).toBe('INVALID_REPLICATION_FACTOR');
    expect(codeOf(validateReplicationFactor(1, 0))).toBe('INVALID_REPLICATION_FACTOR');
    expect(validateReplicationFactor(2, 1)?.message).toMatch(/1 available broker\b/);
    expect(validateReplicationFactor(4, 3)?.message).toMatch(/3 available brokers/);
  });

  it.each([0, -1, 1.5, NaN, Infinity, '3', null, undefined])('refuses a non-positive-integer %j with INVALID_REPLICATION_FACTOR', (rf) => {
    expect(codeOf(validateReplicationFactor(rf, 9))).toBe('INVALID_REPLICATION_FACTOR');
  });
});

describe('resolveTopicConfig', () => {
  it('documents its defaults', () => {
    expect(TOPIC_CONFIG_DEFAULTS).toEqual({ 'retention.ms': 604_800_000, 'retention.bytes': 268_435_456, 'max.message.bytes': 1_048_588, 'min.insync.replicas': 1 });
  });

  it.each([undefined, null, {}])('gives the defaults for %j', (overrides) => {
    expect(valueOf(resolveTopicConfig(overrides, 3))).toEqual(TOPIC_CONFIG_DEFAULTS);
  });

  it('an override replaces only its own key', () => {
    for (const key of CONFIG_KEYS) {
      const cfg = valueOf<TopicConfig>(resolveTopicConfig({ [key]: 1 }, 3));
      expect(cfg).toEqual({ ...TOPIC_CONFIG_DEFAULTS, [key]: 1 });
    }
  });

  it('does not mutate the defaults', () => {
    const before = { ...TOPIC_CONFIG_DEFAULTS };
    valueOf(resolveTopicConfig({ 'retention.ms': 5, 'min.insync.replicas': 2 }, 3));
    expect(TOPIC_CONFIG_DEFAULTS).toEqual(before);
  });

  it('accepts numbers and numeric strings alike', () => {
    expect(valueOf(resolveTopicConfig({ 'retention.ms': '3600000', 'retention.bytes': '-1', 'max.message.bytes': '1024', 'min.insync.replicas': '2' }, 3)))
      .toEqual({ 'retention.ms': 3_600_000, 'retention.bytes': -1, 'max.message.bytes': 1024, 'min.insync.replicas': 2 });
    expect(valueOf(resolveTopicConfig({ 'retention.ms': 3_600_000, 'retention.bytes': -1, 'max.message.bytes': 1024, 'min.insync.replicas': 2 }, 3)))
      .toEqual({ 'retention.ms': 3_600_000, 'retention.bytes': -1, 'max.message.bytes': 1024, 'min.insync.replicas': 2 });
  });

  describe.each([
    // key, lowest accepted, highest accepted, refused values
    ['retention.ms', -1, Number.MAX_SAFE_INTEGER, [-2, 0, '0', -0, 1.5, Number.MAX_SAFE_INTEGER + 1, Infinity, NaN]],
    ['retention.bytes', -1, Number.MAX_SAFE_INTEGER, [-2, 0, '0', -0, 2.5, Number.MAX_SAFE_INTEGER + 1, Infinity]],
    ['max.message.bytes', 1, 64 * 1024 * 1024, [0, -1, 64 * 1024 * 1024 + 1, 1.5, '0', String(64 * 1024 * 1024 + 1)]],
    ['min.insync.replicas', 1, 1_000, [0, -1, 1_001, 1.5, '0']],
  ] as const)('%s', (key, lo, hi, refused) => {
    it(`accepts ${lo} and ${hi} (as numbers and strings)`, () => {
      const rf = 1_000;
      for (const v of [lo, hi, String(lo), String(hi)]) expect(valueOf<TopicConfig>(resolveTopicConfig({ [key]: v }, rf))[key]).toBe(Number(v));
    });

    it.each(refused as readonly unknown[])('refuses %j with INVALID_CONFIG', (v) => {
      expect(codeOf(resolveTopicConfig({ [key]: v }, 1_000))).toBe('INVALID_CONFIG');
    });

    it.each([true, null, [], {}, '', '   ', 'abc', '12abc', '1.5'])('refuses the non-number %j with INVALID_CONFIG', (v) => {
      expect(codeOf(resolveTopicConfig({ [key]: v }, 1_000))).toBe('INVALID_CONFIG');
    });
  });

  it('refuses a retention of 0 (only -1 means "no limit") with INVALID_CONFIG', () => {
    expect(codeOf(resolveTopicConfig({ 'retention.ms': 0 }, 3))).toBe('INVALID_CONFIG');
    expect(codeOf(resolveTopicConfig({ 'retention.bytes': 0 }, 3))).toBe('INVALID_CONFIG');
    expect(valueOf<TopicConfig>(resolveTopicConfig({ 'retention.ms': -1, 'retention.bytes': -1 }, 3))).toMatchObject({ 'retention.ms': -1, 'retention.bytes': -1 });
  });

  it.each(['retention', 'cleanup.policy', 'segment.bytes', 'Retention.ms', 'retention.ms ', 'min.insync.replica', ''])('refuses the unknown key %j with INVALID_CONFIG', (key) => {
    const r = resolveTopicConfig({ [key]: 1 }, 3);
    expect(codeOf(r)).toBe('INVALID_CONFIG');
  });

  it('refuses an unknown key even next to valid ones', () => {
    expect(codeOf(resolveTopicConfig({ 'retention.ms': 1, 'compression.type': 'lz4' }, 3))).toBe('INVALID_CONFIG');
  });

  // Regression (fixed with Object.hasOwn): keys used to be looked up in a plain object literal (RANGES[key]), so names inherited from
  // Object.prototype are not "unknown": { constructor: 5 } resolves ok and the topic's config gains a
  // `constructor: 5` entry ({ toString: '7' } likewise; { "__proto__": 5 } from JSON.parse is silently
  // dropped). Expected: INVALID_CONFIG for every name that is not one of the four documented keys.
  // Actual: { ok: true, value: { ...defaults, constructor: 5 } }. Reaches the metadata log: a decoded
  // create-topic with configs {"constructor":1} creates the topic.
  it.each([
    ['constructor', { constructor: 5 }],
    ['toString', { toString: '7' }],
    ['hasOwnProperty', { hasOwnProperty: 1 }],
    ['__proto__ (as JSON.parse makes it)', JSON.parse('{"__proto__": 5}') as Record<string, unknown>],
  ])('refuses the inherited name %s with INVALID_CONFIG', (_name, overrides) => {
    expect(codeOf(resolveTopicConfig(overrides, 3))).toBe('INVALID_CONFIG');
  });

  it.each([[], 'retention.ms=1', 5, true])('refuses non-object configs %j with INVALID_CONFIG', (overrides) => {
    expect(codeOf(resolveTopicConfig(overrides, 3))).toBe('INVALID_CONFIG');
  });

  it('min.insync.replicas may equal but not exceed the replication factor', () => {
    for (let rf = 1; rf <= 5; rf++) {
      expect(valueOf<TopicConfig>(resolveTopicConfig({ 'min.insync.replicas': rf }, rf))['min.insync.replicas']).toBe(rf);
      expect(codeOf(resolveTopicConfig({ 'min.insync.replicas': rf + 1 }, rf))).toBe('INVALID_CONFIG');
      expect(codeOf(resolveTopicConfig({ 'min.insync.replicas': String(rf + 1) }, rf))).toBe('INVALID_CONFIG');
    }
  });

  it('the default min.insync.replicas (1) fits every replication factor', () => {
    expect(valueOf<TopicConfig>(resolveTopicConfig({}, 1))['min.insync.replicas']).toBe(1);
  });

  it('property: a single in-range integer override is accepted, as a number or its decimal string', () => {
    const ranges: Record<(typeof CONFIG_KEYS)[number], [number, number]> = {
      'retention.ms': [-1, Number.MAX_SAFE_INTEGER],
      'retention.bytes': [-1, Number.MAX_SAFE_INTEGER],
      'max.message.bytes': [1, 64 * 1024 * 1024],
      'min.insync.replicas': [1, 1_000],
    };
    const arb = fc.constantFrom(...CONFIG_KEYS).chain((key) => fc.tuple(fc.constant(key), fc.integer({ min: ranges[key][0] - 3, max: Math.min(ranges[key][1] + 3, 2 ** 31 - 1) }), fc.boolean()));
    fc.assert(fc.property(arb, fc.integer({ min: 1, max: 1_000 }), ([key, v, asString], rf) => {
      const r = resolveTopicConfig({ [key]: asString ? String(v) : v }, rf);
      const inRange = v >= ranges[key][0] && v <= ranges[key][1] && !(v === 0 && key.startsWith('retention')) && !(key === 'min.insync.replicas' && v > rf);
      if (inRange) expect(valueOf<TopicConfig>(r)[key]).toBe(v);
      else expect(codeOf(r)).toBe('INVALID_CONFIG');
    }), { numRuns: 2_000 });
  });
});
