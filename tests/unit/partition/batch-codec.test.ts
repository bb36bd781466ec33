// The records of a partition's log (broker/partition/batch-codec.ts): produce and trim commands
// survive encode/decode unchanged (null vs empty keys and values, headers, timestamps of -1, with and
// without producer info); the header alone tells apply the record count, size and newest timestamp;
// a single flipped bit anywhere in a produce batch's records section is caught by its CRC-32C; decoding
// arbitrary bytes never throws; recordBytes counts what size limits count.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBatchRecords, decodeCommand, decodeCommandHeader, decodeRecords, encodeCommand, encodeRecords, recordBytes, type PartitionCommand, type ProduceRecord,
} from '../../../broker/partition/batch-codec.ts';
import { ByteWriter } from '../../../broker/codec/bytes.ts';
import { crc32c } from '../../../broker/codec/crc32c.ts';
import { bytes, pid, produce, rec, trim } from './support.ts';

/**
 * version u8, type u8, producerId, producerEpoch, baseSequence, appendTimeMs, guessedBaseOffset (f64 each),
 * record count u32, record bytes f64, max timestamp f64, crc u32, length u32.
 */
const RECORDS_AT = 1 + 1 + 5 * 8 + 4 + 8 + 8 + 4 + 4;

/** A hand-built produce batch (version 2) around a records section, claiming `count` records. */
function batchAround(body: Uint8Array, count = 1): Uint8Array {
  const w = new ByteWriter();
  w.u8(2).u8(1).num(-1).num(-1).num(-1).num(0).num(-1).u32(count).num(0).num(0).u32(crc32c(body)).bytes(body);
  return w.finish();
}

const EXAMPLES: readonly PartitionCommand[] = [
  produce(['a']),
  produce(['a', 'b', 'c'], pid(1_000, 0, 0)),
  produce([{ key: null, value: null, headers: [], timestamp: -1 }]),
  produce([{ key: new Uint8Array(0), value: new Uint8Array(0), headers: [], timestamp: -1 }]),
  produce([{ key: null, value: new Uint8Array(0), headers: [], timestamp: 0 }]),
  produce([{ key: new Uint8Array(0), value: null, headers: [], timestamp: 1_700_000_000_000 }]),
  produce([
    { key: bytes('k'), value: bytes('v'), headers: [{ key: 'trace', value: bytes('abc') }, { key: '', value: new Uint8Array(0) }, { key: 'trace', value: bytes('dup key') }], timestamp: -1 },
    { key: bytes('k2'), value: new Uint8Array([0, 255, 1, 254]), headers: [{ key: 'héader ✓', value: new Uint8Array([0xff]) }], timestamp: 42 },
  ], pid(0, 0, 0), 0),
  produce(['x'], pid(Number.MAX_SAFE_INTEGER, 32_767, 2_147_483_647), Number.MAX_SAFE_INTEGER),
  { type: 'produce', producer: null, appendTimeMs: 5, records: [rec('g')], guessedBaseOffset: 17 },
  trim(0),
  trim(1),
  trim(Number.MAX_SAFE_INTEGER),
];

const byteArray = (maxLength: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });
const nullableBytes = fc.oneof(fc.constant(null), fc.constant(new Uint8Array(0)), byteArray(40));
const anyRecord: fc.Arbitrary<ProduceRecord> = fc.record({
  key: nullableBytes,
  value: nullableBytes,
  headers: fc.array(fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 12 }), value: byteArray(12) }), { maxLength: 4 }),
  timestamp: fc.oneof(fc.constant(-1), fc.nat({ max: Number.MAX_SAFE_INTEGER })),
});
const anyProducer = fc.oneof(
  fc.constant(null),
  fc.record({ producerId: fc.nat({ max: Number.MAX_SAFE_INTEGER }), producerEpoch: fc.nat({ max: 32_767 }), baseSequence: fc.nat({ max: 2_147_483_647 }) }),
);
const anyProduce: fc.Arbitrary<PartitionCommand> = fc.record({
  type: fc.constant('produce' as const),
  producer: anyProducer,
  appendTimeMs: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  records: fc.array(anyRecord, { minLength: 1, maxLength: 6 }),
  guessedBaseOffset: fc.oneof(fc.constant(-1), fc.nat({ max: Number.MAX_SAFE_INTEGER })),
});
const anyTrim: fc.Arbitrary<PartitionCommand> = fc.record({ type: fc.constant('trim' as const), logStartOffset: fc.nat({ max: Number.MAX_SAFE_INTEGER }) });
const anyCommand = fc.oneof(anyProduce, anyTrim);

function roundTrip(c: PartitionCommand): PartitionCommand {
  const d = decodeCommand(encodeCommand(c));
  if (!d.ok) throw new Error(`decode failed: ${d.error}`);
  return d.command;
}

describe('round trip', () => {
  it.each(EXAMPLES.map((c, k) => [k, c] as const))('example %i decodes to itself', (_k, c) => {
    expect(roundTrip(c)).toEqual(c);
  });

  it('keeps null and empty keys and values apart', () => {
    const d = roundTrip(produce([
      { key: null, value: new Uint8Array(0), headers: [], timestamp: -1 },
      { key: new Uint8Array(0), value: null, headers: [], timestamp: -1 },
    ]));
    if (d.type !== 'produce') throw new Error('not a produce');
    expect(d.records[0]?.key).toBeNull();
    expect(d.records[0]?.value).toEqual(new Uint8Array(0));
    expect(d.records[1]?.key).toEqual(new Uint8Array(0));
    expect(d.records[1]?.value).toBeNull();
  });

  it('a batch without producer info decodes with producer null; with it, all three fields', () => {
    const plain = roundTrip(produce(['a']));
    const idem = roundTrip(produce(['a'], pid(7, 3, 11)));
    expect(plain.type === 'produce' && plain.producer).toBeNull();
    expect(idem.type === 'produce' && idem.producer).toEqual({ producerId: 7, producerEpoch: 3, baseSequence: 11 });
  });

  it('decoded keys, values and header values are views into the entry (no copies; entries are immutable)', () => {
    const data = encodeCommand(produce([{ key: bytes('kk'), value: bytes('vv'), headers: [{ key: 'h', value: bytes('hh') }], timestamp: -1 }]));
    const d = decodeCommand(data);
    if (!d.ok || d.command.type !== 'produce') throw new Error('decode failed');
    const r = d.command.records[0] as ProduceRecord;
    for (const view of [r.key, r.value, r.headers[0]?.value]) expect(view?.buffer).toBe(data.buffer);
  });

  it('the header alone gives apply the record count, their size and the newest timestamp (append time for records without one)', () => {
    const records = [rec('a', { timestamp: 7 }), { key: bytes('k'), value: null, headers: [{ key: 'h', value: bytes('hv') }], timestamp: -1 }];
    const h = decodeCommandHeader(encodeCommand({ type: 'produce', producer: pid(3, 1, 9), appendTimeMs: 500, records, guessedBaseOffset: -1 }));
    if (!h.ok || h.command.type !== 'produce') throw new Error('header decode failed');
    const b = h.command.batch;
    expect({ count: b.recordCount, bytes: b.recordBytes, maxTs: b.maxTimestamp, producer: b.producer, appendTimeMs: b.appendTimeMs })
      .toEqual({ count: 2, bytes: recordBytes(records[0] as ProduceRecord) + recordBytes(records[1] as ProduceRecord), maxTs: 500, producer: pid(3, 1, 9), appendTimeMs: 500 });
    expect(decodeBatchRecords(b)).toEqual({ ok: true, records });
  });

  it('a header claiming a record count other than the records section holds is malformed', () => {
    const body = encodeRecords([rec('a'), rec('b')]);
    expect(decodeCommand(batchAround(body, 2)).ok).toBe(true);
    expect(decodeCommand(batchAround(body, 3))).toEqual({ ok: false, error: 'malformed records' });
    expect(decodeCommandHeader(batchAround(body, 0))).toEqual({ ok: false, error: 'malformed produce batch' });
  });

  it('any command decodes to itself (property)', () => {
    fc.assert(fc.property(anyCommand, (c) => {
      expect(roundTrip(c)).toEqual(c);
    }), { numRuns: 300 });
  });

  it('encodeRecords / decodeRecords round trip (property)', () => {
    fc.assert(fc.property(fc.array(anyRecord, { maxLength: 8 }), (rs) => {
      expect(decodeRecords(encodeRecords(rs))).toEqual(rs);
    }), { numRuns: 200 });
  });
});

describe('corruption', () => {
  const SMALL: readonly PartitionCommand[] = [
    produce(['a']),
    produce([{ key: null, value: null, headers: [], timestamp: -1 }], pid(1, 0, 0)),
    produce([{ key: bytes('key'), value: bytes('value'), headers: [{ key: 'h', value: bytes('hv') }], timestamp: 12 }, rec('second')], pid(9, 1, 4)),
  ];

  it.each(SMALL.map((c, k) => [k, c] as const))('every single flipped bit in the records section of example %i is a checksum mismatch', (_k, c) => {
    const data = encodeCommand(c);
    expect(data.byteLength).toBeGreaterThan(RECORDS_AT);
    // The layout assumption: the length prefix just before RECORDS_AT covers exactly the rest.
    expect(new DataView(data.buffer, data.byteOffset).getUint32(RECORDS_AT - 4, true)).toBe(data.byteLength - RECORDS_AT);
    for (let at = RECORDS_AT; at < data.byteLength; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = data.slice();
        bad[at] = (bad[at] as number) ^ (1 << bit);
        const d = decodeCommand(bad);
        expect(d.ok, `byte ${at} bit ${bit}`).toBe(false);
        if (!d.ok) expect(d.error).toMatch(/checksum mismatch/);
      }
    }
  });

  it('a flipped bit in the stored checksum is a checksum mismatch too', () => {
    const data = encodeCommand(produce(['a', 'b']));
    for (let at = RECORDS_AT - 8; at < RECORDS_AT - 4; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = data.slice();
        bad[at] = (bad[at] as number) ^ (1 << bit);
        expect(decodeCommand(bad)).toEqual({ ok: false, error: expect.stringMatching(/checksum mismatch/) });
      }
    }
  });

  it('a flipped bit in the records of any batch is caught (property)', () => {
    fc.assert(fc.property(anyProduce, fc.nat(), fc.nat({ max: 7 }), (c, pos, bit) => {
      const data = encodeCommand(c);
      const at = RECORDS_AT + (pos % (data.byteLength - RECORDS_AT));
      data[at] = (data[at] as number) ^ (1 << bit);
      const d = decodeCommand(data);
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.error).toMatch(/checksum mismatch/);
    }), { numRuns: 300 });
  });

  it('truncation and trailing bytes are refused', () => {
    const data = encodeCommand(produce(['a', 'b'], pid(1, 0, 0)));
    for (let n = 0; n < data.byteLength; n++) expect(decodeCommand(data.subarray(0, n)).ok, `prefix of ${n}`).toBe(false);
    const longer = new Uint8Array(data.byteLength + 1);
    longer.set(data);
    expect(decodeCommand(longer).ok).toBe(false);
    const t = encodeCommand(trim(5));
    expect(decodeCommand(t.subarray(0, t.byteLength - 1))).toEqual({ ok: false, error: 'malformed trim' });
  });

  it('unknown versions and command types are refused', () => {
    const data = encodeCommand(produce(['a']));
    const v = data.slice();
    v[0] = 1;
    expect(decodeCommand(v)).toEqual({ ok: false, error: 'unknown batch version' });
    const t = data.slice();
    t[1] = 3;
    expect(decodeCommand(t)).toEqual({ ok: false, error: 'unknown command type 3' });
    expect(decodeCommand(new Uint8Array(0)).ok).toBe(false);
  });

  it('a trim to a negative or fractional offset is refused', () => {
    for (const bad of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(decodeCommand(encodeCommand(trim(bad))).ok, String(bad)).toBe(false);
    }
  });

  it('records with a valid checksum but a malformed body are refused as malformed', () => {
    const body = encodeRecords([rec('a')]).subarray(0, 10);
    expect(decodeCommand(batchAround(body))).toEqual({ ok: false, error: 'malformed records' });
  });
});

describe('arbitrary input never throws', () => {
  it('decodeCommand on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      const d = decodeCommand(b);
      expect(typeof d.ok).toBe('boolean');
    }), { numRuns: 2_000 });
  });

  it('decodeCommand on random bytes after a valid header', () => {
    fc.assert(fc.property(fc.constantFrom(1, 2, 3), fc.uint8Array({ maxLength: 200 }), (type, rest) => {
      const b = new Uint8Array(2 + rest.byteLength);
      b[0] = 2;
      b[1] = type;
      b.set(rest, 2);
      expect(typeof decodeCommand(b).ok).toBe('boolean');
    }), { numRuns: 1_000 });
  });

  it('decodeCommand on random records with a valid checksum (reaches the record decoder)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (body) => {
      const d = decodeCommand(batchAround(body));
      expect(d.ok || d.error === 'malformed records').toBe(true);
    }), { numRuns: 1_000 });
  });

  it('decodeRecords on random bytes and on mutated valid records', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      const out = decodeRecords(b);
      expect(out === undefined || Array.isArray(out)).toBe(true);
    }), { numRuns: 1_000 });
    fc.assert(fc.property(fc.array(anyRecord, { minLength: 1, maxLength: 4 }), fc.nat(), fc.nat({ max: 255 }), (rs, pos, v) => {
      const b = encodeRecords(rs);
      b[pos % b.byteLength] = v;
      const out = decodeRecords(b);
      expect(out === undefined || Array.isArray(out)).toBe(true);
    }), { numRuns: 1_000 });
  });

  it('an absurd record or header count is refused without allocating', () => {
    const w = new ByteWriter();
    w.u32(0xfffffffe);
    expect(decodeRecords(w.finish())).toBeUndefined();
    const h = new ByteWriter();
    h.u32(1).num(-1).u32(0xffffffff).u32(0xffffffff).u32(0xfffffff0);
    expect(decodeRecords(h.finish())).toBeUndefined();
  });
});

describe('recordBytes', () => {
  it('is 16 plus key, value and, per header, 8 plus key and value lengths', () => {
    expect(recordBytes({ key: null, value: null, headers: [], timestamp: -1 })).toBe(16);
    expect(recordBytes({ key: new Uint8Array(0), value: new Uint8Array(0), headers: [], timestamp: -1 })).toBe(16);
    expect(recordBytes({ key: bytes('abc'), value: bytes('hello'), headers: [], timestamp: 5 })).toBe(16 + 3 + 5);
    expect(recordBytes({ key: null, value: bytes('v'), headers: [{ key: 'ab', value: bytes('xyz') }, { key: '', value: new Uint8Array(0) }], timestamp: -1 })).toBe(16 + 1 + (8 + 2 + 3) + 8);
  });

  it('does not depend on the timestamp and grows with every byte (property)', () => {
    fc.assert(fc.property(anyRecord, fc.nat({ max: 64 }), (r, extra) => {
      const base = recordBytes(r);
      expect(base).toBeGreaterThanOrEqual(16);
      expect(recordBytes({ ...r, timestamp: r.timestamp === -1 ? 1 : -1 })).toBe(base);
      expect(recordBytes({ ...r, value: new Uint8Array((r.value?.byteLength ?? 0) + extra) })).toBe(base + extra);
    }));
  });
});

describe('encoded size', () => {
  it('a produce command is exactly its header plus recordBytes() + 4 per record (the encoder sizes its buffer so)', () => {
    fc.assert(fc.property(anyProduce, (c) => {
      if (c.type !== 'produce') return;
      const sum = c.records.reduce((n, r) => n + recordBytes(r) + 4, 0);
      expect(encodeCommand(c).byteLength).toBe(RECORDS_AT + 4 + sum);
    }), { numRuns: 300 });
  });
});
