// How a node lays out Raft state in its key-value store, one key space per group:
//   g/<group>/h0, g/<group>/h1   hard state, two identical copies (one corrupt copy is survivable)
//   g/<group>/s                  latest snapshot (metadata + state machine data)
//   g/<group>/e/<index>          one log entry per key
// Every value is sealed with a CRC-32C; a value whose checksum fails is reported as corrupt, never used.
import { ByteReader, ByteWriter, putF64, putU32 } from './codec/bytes.ts';
import { crc32c } from './codec/crc32c.ts';
import type { GroupId, WriteOp } from './ports.ts';
import type { ConfState, Entry, EntryType, HardState, Index, NodeId, Snapshot, Term } from '../raft/types.ts';

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

interface GroupKeys {
  readonly prefix: string;
  readonly entryPrefix: string;
  readonly hardState: readonly [string, string];
}

/**
 * Every write builds keys of its group: the fixed parts are built once per group and kept, so a key
 * costs one concatenation. Bounded: group ids are not reused, so a long-lived node that saw many topics
 * come and go starts the cache afresh rather than keeping every id it ever hosted.
 */
const groupKeysCache = new Map<GroupId, GroupKeys>();
const GROUP_KEYS_CACHED_MAX = 8192;

function groupKeys(g: GroupId): GroupKeys {
  let k = groupKeysCache.get(g);
  if (k === undefined) {
    if (groupKeysCache.size >= GROUP_KEYS_CACHED_MAX) groupKeysCache.clear();
    const prefix = `g/${hex(g, 8)}/`;
    k = { prefix, entryPrefix: `${prefix}e/`, hardState: [`${prefix}h0`, `${prefix}h1`] };
    groupKeysCache.set(g, k);
  }
  return k;
}

export const groupPrefix = (g: GroupId): string => groupKeys(g).prefix;
/** Exclusive upper bound of a group's key space ('/' + 1 = '0'). */
export const groupPrefixEnd = (g: GroupId): string => `g/${hex(g, 8)}0`;
export const hardStateKeys = (g: GroupId): readonly [string, string] => groupKeys(g).hardState;
export const snapshotKey = (g: GroupId): string => `${groupPrefix(g)}s`;
export const entryKey = (g: GroupId, i: Index): string => groupKeys(g).entryPrefix + hex(i, 14);
export const entryKeyEnd = (g: GroupId): string => `${groupPrefix(g)}e0`;

/** Parses `g/<group>/<rest>`; undefined for keys of other spaces. */
export function parseGroupKey(key: string): { group: GroupId; rest: string } | undefined {
  if (!key.startsWith('g/') || key.length < 11 || key[10] !== '/') return undefined;
  const group = Number.parseInt(key.slice(2, 10), 16);
  if (!Number.isSafeInteger(group)) return undefined;
  return { group, rest: key.slice(11) };
}

/** Prefixes a payload with its CRC-32C. */
export function seal(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.byteLength + 4);
  new DataView(out.buffer).setUint32(0, crc32c(payload), true);
  out.set(payload, 4);
  return out;
}

/** The payload if the checksum holds, else undefined (corrupt or torn). */
export function unseal(record: Uint8Array): Uint8Array | undefined {
  if (record.byteLength < 4) return undefined;
  const want = new DataView(record.buffer, record.byteOffset, record.byteLength).getUint32(0, true);
  const payload = record.subarray(4);
  return crc32c(payload) === want ? payload : undefined;
}

const ENTRY_TYPES: readonly EntryType[] = ['normal', 'conf'];

/** Entry record: crc32c(4) | index f64 | term f64 | type u8 | length u32 | data. One allocation, no copies. */
export function encodeEntry(e: Entry): Uint8Array {
  const out = new Uint8Array(4 + 8 + 8 + 1 + 4 + e.data.byteLength);
  putF64(out, 4, e.index);
  putF64(out, 12, e.term);
  out[20] = e.type === 'normal' ? 0 : 1;
  putU32(out, 21, e.data.byteLength);
  out.set(e.data, 25);
  putU32(out, 0, crc32c(out, 4));
  return out;
}

export function decodeEntry(record: Uint8Array): Entry | undefined {
  const payload = unseal(record);
  if (payload === undefined) return undefined;
  const r = new ByteReader(payload);
  const index = r.uint() as Index;
  const term = r.uint() as Term;
  const type = ENTRY_TYPES[r.u8()];
  // Copy: the entry outlives the record buffer, which the storage layer may reuse.
  const data = r.bytes().slice();
  if (!r.done() || type === undefined) return undefined;
  return { index, term, type, data };
}

export function encodeHardState(hs: HardState): Uint8Array {
  const out = new Uint8Array(4 + 24);
  putF64(out, 4, hs.term);
  putF64(out, 12, hs.vote);
  putF64(out, 20, hs.commit);
  putU32(out, 0, crc32c(out, 4));
  return out;
}

export function decodeHardState(record: Uint8Array): HardState | undefined {
  const payload = unseal(record);
  if (payload === undefined) return undefined;
  const r = new ByteReader(payload);
  const hs = { term: r.uint() as Term, vote: r.uint() as NodeId, commit: r.uint() as Index };
  return r.done() ? hs : undefined;
}

function writeIds(w: ByteWriter, ids: readonly NodeId[]): void {
  w.u32(ids.length);
  for (const id of ids) w.num(id);
}

function readIds(r: ByteReader): NodeId[] {
  const n = r.u32();
  if (n > 100_000) {
    r.ok = false;
    return [];
  }
  const ids: NodeId[] = [];
  for (let k = 0; k < n && r.ok; k++) ids.push(r.uint() as NodeId);
  return ids;
}

export function encodeConfStateTo(w: ByteWriter, cs: ConfState): void {
  writeIds(w, cs.voters);
  writeIds(w, cs.learners);
  writeIds(w, cs.votersOutgoing);
  writeIds(w, cs.learnersNext);
  w.u8(cs.autoLeave ? 1 : 0);
}

export function decodeConfStateFrom(r: ByteReader): ConfState {
  const voters = readIds(r);
  const learners = readIds(r);
  const votersOutgoing = readIds(r);
  const learnersNext = readIds(r);
  const autoLeave = r.u8() === 1;
  return { voters, learners, votersOutgoing, learnersNext, autoLeave };
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const w = new ByteWriter(s.data.byteLength + 64);
  w.num(s.meta.index).num(s.meta.term);
  encodeConfStateTo(w, s.meta.confState);
  w.bytes(s.data);
  return seal(w.finish());
}

export function decodeSnapshot(record: Uint8Array): Snapshot | undefined {
  const payload = unseal(record);
  if (payload === undefined) return undefined;
  const r = new ByteReader(payload);
  const index = r.uint() as Index;
  const term = r.uint() as Term;
  const confState = decodeConfStateFrom(r);
  const data = r.bytes().slice();
  return r.done() ? { meta: { index, term, confState }, data } : undefined;
}

/** Write ops that persist a hard state (both copies). */
export function hardStateOps(g: GroupId, hs: HardState): WriteOp[] {
  const value = encodeHardState(hs);
  const [k0, k1] = hardStateKeys(g);
  return [{ type: 'put', key: k0, value }, { type: 'put', key: k1, value }];
}

/**
 * Write ops for entries that may replace a suffix: stale entries from entries[0].index on are deleted
 * first (a shorter new suffix must not leave old entries behind).
 */
export function entryOps(g: GroupId, ents: readonly Entry[], storedLastIndex: Index): WriteOp[] {
  const ops: WriteOp[] = [];
  const first = ents[0];
  if (first === undefined) return ops;
  if (first.index <= storedLastIndex) ops.push({ type: 'delRange', gte: entryKey(g, first.index), lt: entryKeyEnd(g) });
  for (const e of ents) ops.push({ type: 'put', key: entryKey(g, e.index), value: encodeEntry(e) });
  return ops;
}

/** Write ops that install a snapshot: it replaces every entry it covers (and, when received, the log). */
export function snapshotOps(g: GroupId, s: Snapshot, dropAllEntries: boolean): WriteOp[] {
  return [
    dropAllEntries
      ? { type: 'delRange', gte: entryKey(g, 0 as Index), lt: entryKeyEnd(g) }
      : { type: 'delRange', gte: entryKey(g, 0 as Index), lt: entryKey(g, (s.meta.index + 1) as Index) },
    { type: 'put', key: snapshotKey(g), value: encodeSnapshot(s) },
  ];
}

/** Removes every record of a group (the replica was deleted or moved away). */
export function dropGroupOps(g: GroupId): WriteOp[] {
  return [{ type: 'delRange', gte: groupPrefix(g), lt: groupPrefixEnd(g) }];
}
