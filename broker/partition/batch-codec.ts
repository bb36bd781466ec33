// The records of a partition's log: each Raft entry of a partition group is one command, a produce batch
// or a retention trim. A produce batch carries its own CRC-32C over the records section (as a Kafka
// record batch does), checked whenever records are decoded for a fetch: corrupt records are never served.
// Its header also carries what applying it needs (record count, size, newest timestamp), so every replica
// applies a batch without decoding its records: only the leader decodes them, when a fetch reads them.
import { ByteReader, ByteWriter } from '../codec/bytes.ts';
import { crc32c } from '../codec/crc32c.ts';

export interface Header {
  readonly key: string;
  readonly value: Uint8Array;
}

export interface ProduceRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly Header[];
  /** Producer's timestamp (ms since the epoch), or -1 to use the log append time. */
  readonly timestamp: number;
}

export interface ProducerInfo {
  readonly producerId: number;
  readonly producerEpoch: number;
  /** Sequence number of the batch's first record. */
  readonly baseSequence: number;
}

export type PartitionCommand =
  | {
      readonly type: 'produce';
      /** null for a non-idempotent producer. */
      readonly producer: ProducerInfo | null;
      /** Leader's wall clock when it accepted the batch (replicated: every replica sees the same). */
      readonly appendTimeMs: number;
      readonly records: readonly ProduceRecord[];
      /**
       * PLANTED BUG only (test switch `offsetsAtAppend`): the offset the leader guessed at append.
       * -1 in correct operation: offsets are assigned at apply.
       */
      readonly guessedBaseOffset: number;
    }
  | { readonly type: 'trim'; readonly logStartOffset: number };

const VERSION = 2;
const NULL_LENGTH = 0xffffffff;
const COMMAND_PRODUCE = 1;
const COMMAND_TRIM = 2;
/** More records than this in one batch is a malformed batch (max.message.bytes allows far fewer). */
const RECORDS_PER_BATCH_MAX = 1_000_000;
const HEADERS_PER_RECORD_MAX = 10_000;

/** A produce batch as applying it sees it: the header, and the records still encoded. */
export interface EncodedBatch {
  readonly producer: ProducerInfo | null;
  readonly appendTimeMs: number;
  readonly guessedBaseOffset: number;
  readonly recordCount: number;
  /** Sum of recordBytes() over the records (what retention and fetch sizes count). */
  readonly recordBytes: number;
  /** Newest record timestamp, a record without one counting as appendTimeMs. */
  readonly maxTimestamp: number;
  readonly crc: number;
  /** The encoded records section (a view into the entry's bytes). */
  readonly records: Uint8Array;
}

export type CommandHeader =
  | { readonly type: 'produce'; readonly batch: EncodedBatch }
  | { readonly type: 'trim'; readonly logStartOffset: number };

function writeNullable(w: ByteWriter, b: Uint8Array | null): void {
  if (b === null) w.u32(NULL_LENGTH);
  else w.bytes(b);
}

/** Writes the records section (count, then each record) at the writer's position. */
function writeRecords(w: ByteWriter, records: readonly ProduceRecord[]): void {
  w.u32(records.length);
  for (const r of records) {
    w.num(r.timestamp);
    writeNullable(w, r.key);
    writeNullable(w, r.value);
    w.u32(r.headers.length);
    for (const h of r.headers) w.str(h.key).bytes(h.value);
  }
}

export function encodeRecords(records: readonly ProduceRecord[]): Uint8Array {
  const w = new ByteWriter(64 + records.length * 32);
  writeRecords(w, records);
  return w.finish();
}

/** Bytes of the fixed part of a produce command, before its records section. */
const PRODUCE_HEADER_BYTES = 1 + 1 + 5 * 8 + 4 + 8 + 8 + 4 + 4;

export function encodeCommand(c: PartitionCommand): Uint8Array {
  if (c.type === 'trim') return new ByteWriter(16).u8(VERSION).u8(COMMAND_TRIM).num(c.logStartOffset).finish();
  let bytes = 0;
  let maxTimestamp = -1;
  for (const r of c.records) {
    bytes += recordBytes(r);
    const ts = r.timestamp >= 0 ? r.timestamp : c.appendTimeMs;
    if (ts > maxTimestamp) maxTimestamp = ts;
  }
  // One pass into a buffer of the exact size (so finish() copies nothing): the records section is written
  // in place and checksummed where it lies. A record encodes in recordBytes() + 4 bytes (its timestamp,
  // lengths and header count take 20, recordBytes counts 16 for them).
  const w = new ByteWriter(PRODUCE_HEADER_BYTES + 4 + bytes + 4 * c.records.length);
  w.u8(VERSION).u8(COMMAND_PRODUCE);
  w.num(c.producer?.producerId ?? -1).num(c.producer?.producerEpoch ?? -1).num(c.producer?.baseSequence ?? -1);
  w.num(c.appendTimeMs).num(c.guessedBaseOffset);
  w.u32(c.records.length).num(bytes).num(maxTimestamp);
  const crcAt = w.placeholder();
  const lengthAt = w.placeholder();
  const start = w.length;
  writeRecords(w, c.records);
  w.patchU32(lengthAt, w.length - start);
  w.patchU32(crcAt, crc32c(w.written(start, w.length)));
  return w.finish();
}

export type DecodeResult = { readonly ok: true; readonly command: PartitionCommand } | { readonly ok: false; readonly error: string };
export type HeaderResult = { readonly ok: true; readonly command: CommandHeader } | { readonly ok: false; readonly error: string };

/** Reads a command without decoding (or checksumming) its records: what every replica does at apply. */
export function decodeCommandHeader(bytes: Uint8Array): HeaderResult {
  const r = new ByteReader(bytes);
  if (r.u8() !== VERSION) return { ok: false, error: 'unknown batch version' };
  const type = r.u8();
  if (type === COMMAND_TRIM) {
    const logStartOffset = r.uint();
    return r.done() ? { ok: true, command: { type: 'trim', logStartOffset } } : { ok: false, error: 'malformed trim' };
  }
  if (type !== COMMAND_PRODUCE) return { ok: false, error: `unknown command type ${type}` };
  const producerId = r.num();
  const producerEpoch = r.num();
  const baseSequence = r.num();
  const appendTimeMs = r.num();
  const guessedBaseOffset = r.num();
  const recordCount = r.u32();
  const size = r.uint();
  const maxTimestamp = r.num();
  const crc = r.u32();
  const records = r.bytes();
  if (!r.done() || recordCount === 0 || recordCount > RECORDS_PER_BATCH_MAX) return { ok: false, error: 'malformed produce batch' };
  const producer = producerId < 0 ? null : { producerId, producerEpoch, baseSequence };
  return { ok: true, command: { type: 'produce', batch: { producer, appendTimeMs, guessedBaseOffset, recordCount, recordBytes: size, maxTimestamp, crc, records } } };
}

function readNullable(r: ByteReader): Uint8Array | null {
  const n = r.u32();
  if (n === NULL_LENGTH) return null;
  return r.raw(n);
}

/** Decodes a records section. Keys, values and header values are views into `bytes` (no copies). */
export function decodeRecords(bytes: Uint8Array): ProduceRecord[] | undefined {
  const r = new ByteReader(bytes);
  const count = r.u32();
  if (count > RECORDS_PER_BATCH_MAX) return undefined;
  const out: ProduceRecord[] = [];
  for (let i = 0; i < count && r.ok; i++) {
    const timestamp = r.num();
    const key = readNullable(r);
    const value = readNullable(r);
    const hc = r.u32();
    if (hc > HEADERS_PER_RECORD_MAX) return undefined;
    const headers: Header[] = [];
    for (let k = 0; k < hc && r.ok; k++) headers.push({ key: r.str(), value: r.bytes() });
    out.push({ key, value, headers, timestamp });
  }
  return r.done() ? out : undefined;
}

/** The batch's records, if its checksum holds and they match its header; else why not. */
export function decodeBatchRecords(b: EncodedBatch): { readonly ok: true; readonly records: ProduceRecord[] } | { readonly ok: false; readonly error: string } {
  if (crc32c(b.records) !== b.crc) return { ok: false, error: 'record batch checksum mismatch' };
  const records = decodeRecords(b.records);
  if (records === undefined || records.length !== b.recordCount) return { ok: false, error: 'malformed records' };
  return { ok: true, records };
}

/** Decodes a whole command, records included (checksum verified). */
export function decodeCommand(bytes: Uint8Array): DecodeResult {
  const h = decodeCommandHeader(bytes);
  if (!h.ok) return h;
  if (h.command.type === 'trim') return { ok: true, command: h.command };
  const b = h.command.batch;
  const d = decodeBatchRecords(b);
  if (!d.ok) return d;
  return { ok: true, command: { type: 'produce', producer: b.producer, appendTimeMs: b.appendTimeMs, records: d.records, guessedBaseOffset: b.guessedBaseOffset } };
}

/** UTF-8 length of a string, without encoding it. */
function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4; // a surrogate pair: one 4-byte code point
      i++;
    } else n += 3;
  }
  return n;
}

/** Bytes a record counts for in size limits (max.message.bytes, retention.bytes, fetch maxBytes). */
export function recordBytes(r: ProduceRecord): number {
  let n = 16 + (r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0);
  for (const h of r.headers) n += 8 + utf8Bytes(h.key) + h.value.byteLength;
  return n;
}
