// The simulator's only source of randomness: a seeded xoshiro128** generator. One run seed is split
// into independent named streams (network, disk, clock, workload, each node's Raft), so adding a draw
// in one subsystem never shifts the numbers another subsystem sees.
import type { Rng } from '../raft/config.ts';

/** splitmix32: turns any 32-bit value into a well-mixed one (used for seeding). */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over a string: names streams. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class SimRng implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is any integer (the run seed); `stream` names an independent sequence derived from it. */
  constructor(seed: number, stream = '') {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 0x100000000) >>> 0;
    const s = hashString(stream);
    this.a = splitmix32(lo ^ s);
    this.b = splitmix32(this.a ^ hi);
    this.c = splitmix32(this.b ^ 0x6a09e667);
    this.d = splitmix32(this.c ^ s ^ 0xbb67ae85);
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** A child stream; independent of this one and of siblings with other names. */
  fork(stream: string): SimRng {
    return new SimRng(this.nextU32() * 0x100000 + (hashString(stream) & 0xfffff), stream);
  }

  /** Uniform unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform float in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 0x100000000;
  }

  /** Uniform integer in [0, bound). */
  nextInt(bound: number): number {
    if (bound <= 1) return 0;
    return Math.floor(this.nextFloat() * bound);
  }

  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.nextInt(max - min + 1);
  }

  chance(probability: number): boolean {
    return probability > 0 && this.nextFloat() < probability;
  }

  /** Exponentially distributed with the given mean. */
  exponential(mean: number): number {
    if (mean <= 0) return 0;
    return -Math.log(1 - this.nextFloat()) * mean;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.nextInt(items.length)] as T;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = items[i] as T;
      items[i] = items[j] as T;
      items[j] = t;
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
