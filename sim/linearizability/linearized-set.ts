// The set of linearized operations in one partition. Half of the memoisation key: the WGL search
// never revisits a (linearized set, model state) pair, because whatever it could reach from there it
// has already ruled out (Lowe 2017 §4; Porcupine's cache).
//
// Why not the whole bitset as the key (as Porcupine does): its key then costs O(n) to build, hash
// and store on every step, which dominates on long histories. Instead completed operations get bits
// in order of call time, and the key holds only the window from the first unlinearized completed
// operation p to the last linearized one. Every linearized operation was called before p returned
// (else p would precede it), so the window spans the operations concurrent with p: a few words, not
// n/16. Unknown-outcome operations get their own region after it, kept whole, because one that never
// takes effect stays a hole forever and would otherwise pin the window open.
import { assert } from '../../raft/assert.ts';

const FULL_WORD = 0xffff;

function popcount16(x: number): number {
  let v = x - ((x >> 1) & 0x5555);
  v = (v & 0x3333) + ((v >> 2) & 0x3333);
  v = (v + (v >> 4)) & 0x0f0f;
  return (v + (v >> 8)) & 0x1f;
}

/** Words per String.fromCharCode call: spreading a huge array would overflow the argument limit. */
const CHARS_PER_CALL_MAX = 4096;

/** The words as UTF-16 code units. Lone surrogates are fine: keys are compared unit by unit. */
function wordsToString(words: Uint16Array): string {
  let s = '';
  for (let from = 0; from < words.length; from += CHARS_PER_CALL_MAX) {
    s += String.fromCharCode(...words.subarray(from, from + CHARS_PER_CALL_MAX));
  }
  return s;
}

/** Bits in 16-bit words, so each word is exactly one UTF-16 code unit of a key. */
class Bits {
  /** Bit i is bit (i & 15) of words[i >> 4]. */
  readonly words: Uint16Array;

  constructor(size: number) {
    this.words = new Uint16Array(Math.ceil(size / 16));
  }

  set(i: number): void {
    this.words[i >> 4] = (this.words[i >> 4] as number) | (1 << (i & 15));
  }

  clear(i: number): void {
    this.words[i >> 4] = (this.words[i >> 4] as number) & ~(1 << (i & 15));
  }
}

export class LinearizedSet {
  /** Per operation: its bit among completed operations (>= 0), or ~bit among unknown ones (< 0). */
  private readonly slot: Int32Array;
  private readonly completed: Bits;
  private readonly unknown: Bits;
  /** Linearized completed operations. */
  private completedCount = 0;
  /** Invariant: completed.words[w] === FULL_WORD for every w < firstOpenWord, and not for w === firstOpenWord. */
  private firstOpenWord = 0;

  /** `unknown(op)` says whether operation op has an unknown outcome; `callOf(op)` its call time. */
  constructor(count: number, unknown: (op: number) => boolean, callOf: (op: number) => number) {
    const ops = Array.from({ length: count }, (_, k) => k);
    const completedOps = ops.filter((k) => !unknown(k)).sort((a, b) => callOf(a) - callOf(b) || a - b);
    const unknownOps = ops.filter((k) => unknown(k));
    this.slot = new Int32Array(count);
    completedOps.forEach((op, bit) => (this.slot[op] = bit));
    unknownOps.forEach((op, bit) => (this.slot[op] = ~bit));
    this.completed = new Bits(completedOps.length);
    this.unknown = new Bits(unknownOps.length);
  }

  add(op: number): void {
    const s = this.slot[op] as number;
    if (s < 0) {
      this.unknown.set(~s);
      return;
    }
    this.completed.set(s);
    this.completedCount++;
    const words = this.completed.words;
    while (this.firstOpenWord < words.length && words[this.firstOpenWord] === FULL_WORD) this.firstOpenWord++;
  }

  remove(op: number): void {
    const s = this.slot[op] as number;
    if (s < 0) {
      this.unknown.clear(~s);
      return;
    }
    this.completed.clear(s);
    this.completedCount--;
    if (s >> 4 < this.firstOpenWord) this.firstOpenWord = s >> 4;
  }

  /**
   * A string equal exactly for equal sets: [firstOpenWord (2 units)][window length (2 units)]
   * [window words][the whole unknown region]. Self-delimiting, so `key() + stateHash` needs no separator.
   */
  key(): string {
    const words = this.completed.words;
    let remaining = this.completedCount - this.firstOpenWord * 16;
    let end = this.firstOpenWord;
    while (remaining > 0) {
      remaining -= popcount16(words[end] as number);
      end++;
    }
    assert(remaining === 0, 'linearized-set count disagrees with its bits');
    const window = end - this.firstOpenWord;
    return String.fromCharCode(this.firstOpenWord & 0xffff, this.firstOpenWord >>> 16, window & 0xffff, window >>> 16)
      + wordsToString(words.subarray(this.firstOpenWord, end))
      + wordsToString(this.unknown.words);
  }
}
