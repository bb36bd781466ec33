// Rebuilds each group's durable Raft state from the records a node loaded at start. Every value is
// checked: a record whose checksum fails is never used. The hard state is kept twice, so one corrupt copy
// is repaired from the other; any other corruption fails the group, with what may still be trusted (the
// stored term, the snapshot's voters): the host then rejoins the group empty and fenced, or its replica
// steps aside (node-host.ts). Either way nothing it may have lost is voted or acknowledged on.
import { MemoryStorage } from '../raft/storage.ts';
import type { Entry, HardState, Index, NodeId, Term } from '../raft/types.ts';
import type { GroupId } from './ports.ts';
import { decodeEntry, decodeHardState, decodeSnapshot, parseGroupKey } from './storage-codec.ts';

export type RecoveredGroup =
  | {
      readonly ok: true;
      readonly group: GroupId;
      readonly storage: MemoryStorage;
      /** Last entry index on disk (or the snapshot index if the log is empty). */
      readonly lastIndex: Index;
      /** Number of hard-state copies found corrupt and ignored (0 or 1). */
      readonly repairedCopies: number;
    }
  | {
      readonly ok: false;
      readonly group: GroupId;
      readonly reason: string;
      /** The term of the hard state on disk, if a copy of it is intact: the replica promised nothing beyond it. */
      readonly term?: Term;
      /** The voters of the snapshot on disk, if it is intact. */
      readonly voters?: readonly NodeId[];
    };

interface RawGroup {
  hard: (Uint8Array | undefined)[];
  snapshot: Uint8Array | undefined;
  entries: Uint8Array[];
}

function pickHardState(copies: readonly (Uint8Array | undefined)[]): { hs: HardState | undefined; corrupt: number; present: number } {
  let best: HardState | undefined;
  let corrupt = 0;
  let present = 0;
  for (const c of copies) {
    if (c === undefined) continue;
    present++;
    const hs = decodeHardState(c);
    if (hs === undefined) {
      corrupt++;
      continue;
    }
    // Both copies are written in one atomic batch; if they ever differ, the newer one is larger.
    if (best === undefined || hs.term > best.term || (hs.term === best.term && hs.commit > best.commit)) best = hs;
  }
  return { hs: best, corrupt, present };
}

function recoverOne(group: GroupId, raw: RawGroup): RecoveredGroup {
  const storage = new MemoryStorage();
  const hard = pickHardState(raw.hard);
  if (hard.present > 0 && hard.hs === undefined) return { ok: false, group, reason: 'both hard-state copies are corrupt' };
  const snapshot = raw.snapshot === undefined ? undefined : decodeSnapshot(raw.snapshot);
  const failed = (reason: string): RecoveredGroup => ({
    ok: false, group, reason,
    ...(hard.hs === undefined ? {} : { term: hard.hs.term }),
    ...(snapshot === undefined ? {} : { voters: snapshot.meta.confState.voters }),
  });
  if (raw.snapshot !== undefined) {
    if (snapshot === undefined) return failed('snapshot record is corrupt');
    storage.applySnapshot(snapshot);
  }
  const ents: Entry[] = [];
  for (const rec of raw.entries) {
    const e = decodeEntry(rec);
    if (e === undefined) return failed(`log entry record is corrupt (after index ${ents.length > 0 ? (ents[ents.length - 1] as Entry).index : storage.lastIndex()})`);
    if (e.index <= storage.lastIndex() && ents.length === 0) continue; // covered by the snapshot
    const expected = (ents.length > 0 ? (ents[ents.length - 1] as Entry).index : storage.lastIndex()) + 1;
    if (e.index !== expected) return failed(`log has a gap: expected index ${expected}, found ${e.index}`);
    ents.push(e);
  }
  storage.append(ents);
  if (hard.hs !== undefined) {
    if (hard.hs.commit > storage.lastIndex()) return failed(`hard state commit ${hard.hs.commit} beyond last index ${storage.lastIndex()}`);
    storage.setHardState(hard.hs);
  }
  return { ok: true, group, storage, lastIndex: storage.lastIndex(), repairedCopies: hard.corrupt };
}

/** Groups found in the records (keys sorted: entries come in index order). */
export function recoverGroups(records: ReadonlyMap<string, Uint8Array>): Map<GroupId, RecoveredGroup> {
  const raw = new Map<GroupId, RawGroup>();
  const keys = [...records.keys()].sort();
  for (const key of keys) {
    const parsed = parseGroupKey(key);
    if (parsed === undefined) continue;
    let g = raw.get(parsed.group);
    if (g === undefined) {
      g = { hard: [undefined, undefined], snapshot: undefined, entries: [] };
      raw.set(parsed.group, g);
    }
    const value = records.get(key) as Uint8Array;
    if (parsed.rest === 'h0') g.hard[0] = value;
    else if (parsed.rest === 'h1') g.hard[1] = value;
    else if (parsed.rest === 's') g.snapshot = value;
    else if (parsed.rest.startsWith('e/')) g.entries.push(value);
  }
  const out = new Map<GroupId, RecoveredGroup>();
  for (const [group, g] of raw) out.set(group, recoverOne(group, g));
  return out;
}
