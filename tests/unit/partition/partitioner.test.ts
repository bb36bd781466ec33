// Key -> partition (broker/partition/partitioner.ts): murmur2 gives Kafka's published values
// (UtilsTest.testMurmur2) and agrees with an independent BigInt transcription of the Java code on any
// bytes; partitionForKey is toPositive(murmur2) % n, always in range and stable.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../../broker/partition/partitioner.ts';
import { bytes } from './support.ts';

/** org.apache.kafka.common.utils.UtilsTest.testMurmur2. */
const KAFKA_VECTORS: readonly (readonly [string, number])[] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

const M32 = (1n << 32n) - 1n;
/** Java int arithmetic on BigInt, written from Utils.murmur2 without sharing any code with the implementation. */
function referenceMurmur2(data: Uint8Array): number {
  const m = 0x5bd1e995n;
  const mul = (a: bigint, b: bigint): bigint => (a * b) & M32;
  const ushr = (a: bigint, n: bigint): bigint => (a & M32) >> n;
  let h = (0x9747b28cn ^ BigInt(data.length)) & M32;
  const length4 = Math.floor(data.length / 4);
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = BigInt(data[i4] as number) | (BigInt(data[i4 + 1] as number) << 8n) | (BigInt(data[i4 + 2] as number) << 16n) | (BigInt(data[i4 + 3] as number) << 24n);
    k = mul(k, m);
    k ^= ushr(k, 24n);
    k = mul(k, m);
    h = mul(h, m);
    h ^= k;
  }
  const tail = length4 * 4;
  switch (data.length % 4) {
    case 3:
      h ^= BigInt(data[tail + 2] as number) << 16n;
      h ^= BigInt(data[tail + 1] as number) << 8n;
      h ^= BigInt(data[tail] as number);
      h = mul(h, m);
      break;
    case 2:
      h ^= BigInt(data[tail + 1] as number) << 8n;
      h ^= BigInt(data[tail] as number);
      h = mul(h, m);
      break;
    case 1:
      h ^= BigInt(data[tail] as number);
      h = mul(h, m);
      break;
    default:
      break;
  }
  h ^= ushr(h, 13n);
  h = mul(h, m);
  h ^= ushr(h, 15n);
  return Number(BigInt.asIntN(32, h & M32));
}

describe('murmur2', () => {
  it.each(KAFKA_VECTORS)('murmur2(%j) is %i, as in Kafka', (s, expected) => {
    expect(murmur2(bytes(s))).toBe(expected);
  });

  it('the BigInt reference reproduces Kafka\'s vectors too', () => {
    for (const [s, expected] of KAFKA_VECTORS) expect(referenceMurmur2(bytes(s))).toBe(expected);
  });

  it('agrees with the reference on any bytes, high bytes (Java negative bytes) included (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      expect(murmur2(b)).toBe(referenceMurmur2(b));
    }), { numRuns: 2_000 });
    for (let n = 0; n < 12; n++) {
      const high = new Uint8Array(n).fill(0xff);
      expect(murmur2(high), `${n} bytes of 0xff`).toBe(referenceMurmur2(high));
    }
  });

  it('returns a signed 32-bit integer and does not read outside a subarray view', () => {
    const big = bytes('xxfoobaryy');
    expect(murmur2(big.subarray(2, 8))).toBe(-790332482);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
      const h = murmur2(b);
      expect(Number.isInteger(h) && h >= -(2 ** 31) && h < 2 ** 31).toBe(true);
    }));
  });
});

describe('partitionForKey', () => {
  it('is toPositive(murmur2(key)) % partitions', () => {
    // "foobar": -790332482 & 0x7fffffff = 1357151166.
    expect(partitionForKey(bytes('foobar'), 1)).toBe(0);
    expect(partitionForKey(bytes('foobar'), 7)).toBe(1357151166 % 7);
    expect(partitionForKey(bytes('foobar'), 100)).toBe(66);
    expect(partitionForKey(bytes('abc'), 10)).toBe(479470107 % 10);
    for (const [s, h] of KAFKA_VECTORS) expect(partitionForKey(bytes(s), 12)).toBe((h & 0x7fffffff) % 12);
  });

  it('is in range and stable for any key and partition count (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 48 }), fc.integer({ min: 1, max: 10_000 }), (key, n) => {
      const p = partitionForKey(key, n);
      expect(Number.isInteger(p) && p >= 0 && p < n).toBe(true);
      expect(partitionForKey(key.slice(), n)).toBe(p);
    }), { numRuns: 1_000 });
  });

  it('spreads keys over the partitions', () => {
    const counts = new Array<number>(8).fill(0);
    for (let k = 0; k < 8_000; k++) {
      const p = partitionForKey(bytes(`key-${k}`), 8);
      counts[p] = (counts[p] as number) + 1;
    }
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});
