// The Rng port for a real node: xoshiro128** (Blackman & Vigna) seeded through splitmix32. Raft's
// election jitter is the only consumer; a node started with the same seed draws the same timeouts
// (STYLE.md §2: entropy enters once, at the top). Local to net/: the simulator has its own generator.
import { randomInt } from 'node:crypto';
import type { Rng } from '../broker/ports.ts';
import { assert } from '../raft/assert.ts';

const TWO_POW_32 = 0x1_0000_0000;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** One step of splitmix32: the next state and its mixed output. */
function splitmix32(state: number): { state: number; out: number } {
  const next = (state + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return { state: next, out: (z ^ (z >>> 16)) >>> 0 };
}

export class SeededRng implements Rng {
  /** xoshiro128** state. Invariant: not all four words are zero. */
  private readonly s = new Uint32Array(4);

  /** `seed`: a non-negative safe integer; both 32-bit halves feed the state. */
  constructor(readonly seed: number) {
    assert(Number.isSafeInteger(seed) && seed >= 0, `seed must be a non-negative safe integer, got ${seed}`);
    let lo = seed >>> 0;
    let hi = Math.floor(seed / TWO_POW_32) ^ 0x6a09e667;
    for (let i = 0; i < 4; i++) {
      const a = splitmix32(lo);
      const b = splitmix32(hi);
      lo = a.state;
      hi = b.state;
      this.s[i] = (a.out ^ rotl(b.out, 13)) >>> 0;
    }
    if (this.s.every((w) => w === 0)) this.s[0] = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const s0 = s[0] as number;
    const s1 = s[1] as number;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s[2] = (s[2] as number) ^ s0;
    s[3] = (s[3] as number) ^ s1;
    s[1] = s1 ^ (s[2] as number);
    s[0] = s0 ^ (s[3] as number);
    s[2] = (s[2] as number) ^ t;
    s[3] = rotl(s[3] as number, 11);
    return result;
  }

  /** Uniform integer in [0, bound), bound in [1, 2^32] (rejection sampling: no modulo bias). */
  nextInt(bound: number): number {
    assert(Number.isInteger(bound), `bound must be an integer, got ${bound}`);
    assert(bound >= 1 && bound <= TWO_POW_32, `bound must be in [1, 2^32], got ${bound}`);
    const limit = TWO_POW_32 - (TWO_POW_32 % bound);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % bound;
    }
  }
}

/** A fresh seed from the OS's entropy (printed by whoever starts the node, so a run can be repeated). */
export function randomSeed(): number {
  return randomInt(0, 2 ** 47);
}
