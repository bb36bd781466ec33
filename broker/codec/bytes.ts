// A small binary writer/reader for records stored on disk and in the log. Numbers are safe integers
// written as float64 (Raft indexes and terms stay far below 2^53); strings are UTF-8 with a length.
// The reader never throws on bad input: it flags `ok = false`, and the caller turns that into an error value.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

// Writers for small fixed-layout records without a DataView: asking a small Uint8Array for its .buffer
// moves it off the V8 heap (an allocation several times the record's own cost), and records such as a
// log entry's header are written by the hundred thousand per simulated minute.
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes v as a little-endian float64 at out[at, at + 8). */
export function putF64(out: Uint8Array, at: number, v: number): void {
  f64[0] = v;
  if (HOST_LITTLE_ENDIAN) for (let k = 0; k < 8; k++) out[at + k] = f64Bytes[k] as number;
  else for (let k = 0; k < 8; k++) out[at + k] = f64Bytes[7 - k] as number;
}

/** Writes v as a little-endian uint32 at out[at, at + 4). */
export function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = (v >>> 24) & 0xff;
}

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private at = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.at++] = v;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.view.setUint32(this.at, v >>> 0, true);
    this.at += 4;
    return this;
  }

  /** A safe integer (or any finite number). */
  num(v: number): this {
    this.reserve(8);
    this.view.setFloat64(this.at, v, true);
    this.at += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.u32(b.byteLength);
    this.reserve(b.byteLength);
    this.buf.set(b, this.at);
    this.at += b.byteLength;
    return this;
  }

  str(s: string): this {
    return this.bytes(encoder.encode(s));
  }

  /** Writes a u32 placeholder and returns its position, for a length or checksum filled in later. */
  placeholder(): number {
    const pos = this.at;
    this.u32(0);
    return pos;
  }

  patchU32(pos: number, v: number): void {
    this.view.setUint32(pos, v >>> 0, true);
  }

  get length(): number {
    return this.at;
  }

  /** A view of bytes [start, end) written so far (valid until the next write). */
  written(start: number, end: number): Uint8Array {
    return this.buf.subarray(start, end);
  }

  /** The bytes written: the buffer itself when it is exactly full (no copy), else a copy. */
  finish(): Uint8Array {
    return this.at === this.buf.length ? this.buf : this.buf.slice(0, this.at);
  }
}

export class ByteReader {
  private readonly view: DataView;
  private at: number;
  /** False once any read ran past the end or found an impossible length. */
  ok = true;

  constructor(private readonly buf: Uint8Array, start = 0) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.at = start;
  }

  private take(n: number): number {
    if (!this.ok || n < 0 || this.at + n > this.buf.byteLength) {
      this.ok = false;
      return -1;
    }
    const pos = this.at;
    this.at += n;
    return pos;
  }

  u8(): number {
    const p = this.take(1);
    return p < 0 ? 0 : (this.buf[p] as number);
  }

  u32(): number {
    const p = this.take(4);
    return p < 0 ? 0 : this.view.getUint32(p, true);
  }

  num(): number {
    const p = this.take(8);
    return p < 0 ? 0 : this.view.getFloat64(p, true);
  }

  /** A non-negative safe integer, or flags the reader. */
  uint(): number {
    const v = this.num();
    if (!Number.isSafeInteger(v) || v < 0) this.ok = false;
    return v;
  }

  bytes(): Uint8Array {
    const n = this.u32();
    const p = this.take(n);
    return p < 0 ? new Uint8Array(0) : this.buf.subarray(p, p + n);
  }

  str(): string {
    return decoder.decode(this.bytes());
  }

  /** The next n bytes, without a length prefix (a view into the buffer). */
  raw(n: number): Uint8Array {
    const p = this.take(n);
    return p < 0 ? new Uint8Array(0) : this.buf.subarray(p, p + n);
  }

  get offset(): number {
    return this.at;
  }

  get remaining(): number {
    return this.buf.byteLength - this.at;
  }

  /** True if everything was read and nothing was malformed. */
  done(): boolean {
    return this.ok && this.at === this.buf.byteLength;
  }
}
