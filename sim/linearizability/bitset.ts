// The set of linearized operations in one partition, as bits. Half of the memoisation key: the WGL
// search never revisits a (linearized set, model state) pair, because whatever it could reach from
// there it has already ruled out (Lowe 2017 §4; Porcupine's cache).

/** Bits per word: 16, so each word is exactly one UTF-16 code unit of `key()`. */
const WORD_BITS = 16;

export class Bitset {
  /** Bit i of the set is bit (i % 16) of words[i >> 4]. */
  private readonly words: Uint16Array;

  constructor(size: number) {
    this.words = new Uint16Array(Math.ceil(size / WORD_BITS));
  }

  set(i: number): void {
    this.words[i >> 4] = (this.words[i >> 4] as number) | (1 << (i & 15));
  }

  clear(i: number): void {
    this.words[i >> 4] = (this.words[i >> 4] as number) & ~(1 << (i & 15));
  }

  has(i: number): boolean {
    return ((this.words[i >> 4] as number) & (1 << (i & 15))) !== 0;
  }

  /**
   * A string equal for equal sets. Its length is fixed by `size`, so `key() + stateHash` is
   * unambiguous without a separator. Lone surrogates are fine: Set compares code units.
   */
  key(): string {
    return String.fromCharCode(...this.words);
  }
}
