// Records as users write and read them, and their wire form. Keys and values may be given as strings
// (encoded as UTF-8) or bytes; null and absent differ from empty, as in client.proto (the *_null flags).
import { MESSAGE_BYTES_LIMIT } from '../../controller/topic-config.ts';
import { invalidRequest, KeelError } from './errors.ts';
import type { WireFetchedRecord, WireHeader, WireRecord } from './wire.ts';

export type Bytes = Uint8Array | string;

export interface RecordHeader {
  readonly key: string;
  readonly value: Bytes;
}

/** A record to produce. An absent key is a null key; an absent timestamp means "use the append time". */
export interface ProducerRecord {
  readonly key?: Bytes | null;
  readonly value: Bytes | null;
  readonly headers?: readonly RecordHeader[];
  readonly timestamp?: number;
}

/** A record read back from a partition. */
export interface ConsumedRecord {
  readonly offset: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly { readonly key: string; readonly value: Uint8Array }[];
  readonly timestamp: number;
}

/** What a fetch returns: committed records from the requested offset, and the partition's bounds. */
export interface FetchResult {
  readonly records: readonly ConsumedRecord[];
  /** Offset after the last committed record. */
  readonly highWatermark: number;
  /** First offset still in the log (retention moves it). */
  readonly logStartOffset: number;
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
/** Fixed per-record cost in a batch (timestamp, lengths, flags), for the batch size estimate. */
const RECORD_OVERHEAD_BYTES = 24;

export function toBytes(b: Bytes, what = 'bytes'): Uint8Array {
  if (typeof b === 'string') return encoder.encode(b);
  if (b instanceof Uint8Array) return b;
  throw invalidRequest(`${what} must be a string or a Uint8Array, got ${b === null ? 'null' : typeof b}`);
}

export function toWireRecord(r: ProducerRecord): WireRecord {
  if (typeof r !== 'object' || r === null) throw invalidRequest('a record must be an object with a value');
  const key = r.key === undefined || r.key === null ? null : toBytes(r.key, 'a record key');
  const value = r.value === null ? null : toBytes(r.value, 'a record value');
  const headers: WireHeader[] = (r.headers ?? []).map((h) => {
    if (typeof h?.key !== 'string') throw invalidRequest('a header key must be a string');
    return { key: h.key, value: toBytes(h.value, `header ${h.key}`) };
  });
  if (r.timestamp !== undefined && (!Number.isSafeInteger(r.timestamp) || r.timestamp < -1)) throw invalidRequest(`a record timestamp must be an integer >= -1 (ms since the epoch), got ${r.timestamp}`);
  return {
    key: key ?? EMPTY,
    keyNull: key === null,
    value: value ?? EMPTY,
    valueNull: value === null,
    headers,
    timestamp: r.timestamp ?? -1,
  };
}

/** An estimate of the record's size in a batch (what batchBytesMax counts). */
export function wireRecordBytes(r: WireRecord): number {
  let n = RECORD_OVERHEAD_BYTES + r.key.length + r.value.length;
  for (const h of r.headers) n += 8 + h.key.length * 3 + h.value.length;
  return n;
}

/**
 * RECORD_TOO_LARGE for records of `bytes` that no topic accepts (max.message.bytes is at most
 * MESSAGE_BYTES_LIMIT), refused before sending rather than by gRPC's message size limit; else null.
 */
export function beyondEveryTopic(bytes: number, what: string): KeelError | null {
  if (bytes <= MESSAGE_BYTES_LIMIT) return null;
  return new KeelError({ code: 'RECORD_TOO_LARGE', message: `${what} of ${bytes} bytes is larger than any topic accepts (max.message.bytes is at most ${MESSAGE_BYTES_LIMIT})`, retriable: false });
}

/** A plain Uint8Array view of decoded bytes (the decoder hands out Buffers), without copying. */
function view(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function fromWireRecord(f: WireFetchedRecord): ConsumedRecord {
  const r = f.record;
  return {
    offset: f.offset,
    key: r.keyNull ? null : view(r.key),
    value: r.valueNull ? null : view(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: view(h.value) })),
    timestamp: r.timestamp,
  };
}
