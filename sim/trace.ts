// The run's trace: a 64-bit FNV-1a hash over every executed event (two 32-bit lanes), and, on request,
// a human-readable timeline with one line per event. Two runs of one seed must give the same hash.

export class Trace {
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  readonly lines: string[] | null;

  constructor(keepLines: boolean) {
    this.lines = keepLines ? [] : null;
  }

  /** Mixes a number into the hash. */
  mix(v: number): void {
    // Split non-integers and large values into 32-bit words so every bit counts.
    this.word(v | 0);
    if (v > 2147483647 || v < -2147483648) this.word(Math.floor(v / 4294967296) | 0);
    if (!Number.isInteger(v)) this.word(Math.round((v - Math.floor(v)) * 1e6) | 0);
  }

  private word(w: number): void {
    this.h1 = Math.imul(this.h1 ^ w, 0x01000193) >>> 0;
    this.h2 = Math.imul(this.h2 ^ (w + 0x9e3779b9), 0x5bd1e995) >>> 0;
  }

  mixString(s: string): void {
    for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
  }

  /** Records one event: its virtual time, a kind code, the node, and up to two details. */
  event(time: number, kind: number, node: number, a = 0, b = 0): void {
    this.mix(time);
    this.mix(kind);
    this.mix(node);
    this.mix(a);
    this.mix(b);
  }

  line(text: string): void {
    this.lines?.push(text);
  }

  hash(): string {
    return this.h1.toString(16).padStart(8, '0') + this.h2.toString(16).padStart(8, '0');
  }
}
