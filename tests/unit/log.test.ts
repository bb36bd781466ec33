// The Raft log (raft/log.ts over raft/log-unstable.ts and raft/storage.ts) against a plain array model.
// Random operations: follower appends that may truncate a suffix, leader appends, a host that hands out
// writes and completes them in order (async storage writes), stale and bogus completions, compaction
// through MemoryStorage.createSnapshot + compact, and restore from a snapshot. After every operation the
// log and MemoryStorage must agree with the model: terms, bounds, contents, commit index, and "what the
// log treats as durable is exactly what storage holds" (PITFALLS 5, 13).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RaftLog } from '../../raft/log.ts';
import { MemoryStorage } from '../../raft/storage.ts';
import { RawNode } from '../../raft/raw-node.ts';
import { SILENT_LOGGER } from '../../raft/config.ts';
import {
  EMPTY_CONF_STATE, nodeId,
  type Entry, type Index, type Message, type MsgApp, type PersistAck, type Snapshot, type Term,
} from '../../raft/index.ts';

const BYTES_MAX = Number.MAX_SAFE_INTEGER;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The entry at (index, term): same index and term means same entry (log matching), so same payload. */
function entryAt(index: number, t: number): Entry {
  return { index: index as Index, term: t as Term, type: 'normal', data: encoder.encode(`${t}/${index}`) };
}

const show = (e: Entry): string => `${e.term}/${e.index}:${decoder.decode(e.data)}`;

function fail(what: string): never {
  throw new Error(what);
}

// ---- the models -----------------------------------------------------------------------------------

/** The log as the algorithm should see it: terms[i] for first-1 <= i <= last (first-1 is the snapshot/compaction point). */
class LogModel {
  terms = new Map<number, number>([[0, 0]]);
  first = 1;
  last = 0;
  committed = 0;
  /** (index/term) of every entry ever cut off the log by a conflicting append or a snapshot. */
  readonly overwritten = new Set<string>();

  term(i: number): number | undefined {
    return i >= this.first - 1 && i <= this.last ? this.terms.get(i) : undefined;
  }

  lastTerm(): number {
    return this.terms.get(this.last)!;
  }

  truncateFrom(i: number): void {
    for (let j = i; j <= this.last; j++) this.overwritten.add(`${j}/${this.terms.get(j)!}`);
    this.last = i - 1;
  }

  push(ents: readonly Entry[]): void {
    for (const e of ents) {
      if (e.index !== this.last + 1) fail(`model: gap at ${e.index}`);
      this.terms.set(e.index, e.term);
      this.last = e.index;
    }
  }
}

/** MemoryStorage as an array: terms[i] for compacted <= i <= last. */
class StorageModel {
  terms = new Map<number, number>([[0, 0]]);
  compacted = 0;
  last = 0;
  snapIndex = 0;

  append(ents: readonly Entry[]): void {
    for (const e of ents) {
      if (e.index <= this.compacted) continue;
      if (e.index > this.last + 1) fail(`storage model: gap at ${e.index}`);
      this.terms.set(e.index, e.term);
      this.last = e.index;
    }
  }

  applySnapshot(index: number, t: number): void {
    if (index < this.snapIndex) return;
    this.terms = new Map([[index, t]]);
    this.compacted = index;
    this.last = index;
    this.snapIndex = index;
  }

  compact(i: number): void {
    if (i <= this.compacted) return;
    this.compacted = i;
    this.snapIndex = Math.max(this.snapIndex, i);
  }
}

// ---- operations -------------------------------------------------------------------------------------

type Op =
  | { readonly k: 'follow'; readonly prev: number; readonly corrupt: boolean; readonly match: number; readonly count: number; readonly bump: number; readonly commit: number }
  | { readonly k: 'lead'; readonly count: number; readonly bump: number }
  | { readonly k: 'handOut' }
  | { readonly k: 'complete' }
  | { readonly k: 'replayAck'; readonly pick: number }
  | { readonly k: 'bogusAck'; readonly at: number; readonly bump: number }
  | { readonly k: 'compact'; readonly at: number }
  | { readonly k: 'restore'; readonly ahead: number; readonly bump: number }
  | { readonly k: 'drain' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant('follow' as const), prev: fc.nat(40), corrupt: fc.boolean(), match: fc.nat(6), count: fc.nat(3), bump: fc.nat(2), commit: fc.nat(40) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('lead' as const), count: fc.integer({ min: 1, max: 3 }), bump: fc.nat(1) }) },
  { weight: 6, arbitrary: fc.constant<Op>({ k: 'handOut' }) },
  { weight: 5, arbitrary: fc.constant<Op>({ k: 'complete' }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('replayAck' as const), pick: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('bogusAck' as const), at: fc.nat(40), bump: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('compact' as const), at: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('restore' as const), ahead: fc.nat(4), bump: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.constant<Op>({ k: 'drain' }) },
);

/** Term increments of the initial stable log (restart with entries already on disk). */
const initialArb = fc.array(fc.nat(1), { maxLength: 6 });

interface Write {
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
  /** The leader epoch (term) the write was handed out in. */
  readonly epoch: number;
}

interface Options {
  /**
   * Allow an entry that was cut off to be appended again while a write of it may still be in flight
   * (etcd's async_storage_writes_append_aba_race: A's entry, overwritten by C's, re-sent by A).
   */
  readonly reappend: boolean;
}

/** Runs one sequence; throws on the first disagreement with the model. */
function runLogModel(increments: readonly number[], ops: readonly Op[], options: Options): void {
  const storage = new MemoryStorage();
  const sm = new StorageModel();
  const model = new LogModel();
  let t = 1;
  const initial = increments.map((d, k) => entryAt(k + 1, (t += d)));
  storage.append(initial);
  sm.append(initial);
  model.push(initial);
  const log = new RaftLog(storage, BYTES_MAX);
  const writes: Write[] = [];
  const completed: { index: number; term: number; epoch: number }[] = [];
  /**
   * Raft's term as far as overwrites go: an entry is only ever replaced by a leader of a newer term, so
   * every conflicting append and every snapshot restore starts a new epoch. Raft.onPersisted ignores the
   * entries of a completion handed out in an older term (the fix of the async-append ABA race).
   */
  let epoch = 0;
  let lastCompletedEpoch = -1;

  /**
   * Log Matching holds for generated entries too: an entry (i, t) always follows the same entry, so it is
   * the same entry wherever it appears. `pred` maps "i/t" to the term of the entry before it (-1: after a
   * snapshot, unknown).
   */
  const pred = new Map<string, number>();
  const register = (ents: readonly Entry[], before: number): void => {
    ents.forEach((e, k) => pred.set(`${e.index}/${e.term}`, k === 0 ? before : ents[k - 1]!.term));
  };
  register(initial, 0);

  /**
   * The smallest term >= max(1, at) for `count` new entries from index `from` (after an entry of term
   * `before`) that keeps Log Matching, and, unless re-appends are allowed, gives no index back an entry it lost.
   */
  const freshTerm = (at: number, from: number, before: number, count: number): number => {
    const ok = (nt: number): boolean => {
      for (let k = 0; k < count; k++) {
        const key = `${from + k}/${nt}`;
        const p = pred.get(key);
        if (p !== undefined && p !== (k === 0 ? before : nt)) return false;
        if (!options.reappend && model.overwritten.has(key)) return false;
      }
      return true;
    };
    let nt = Math.max(1, at);
    while (!ok(nt)) nt++;
    return nt;
  };

  const complete = (): void => {
    const w = writes.shift();
    if (w === undefined) return;
    if (w.snapshot !== null) {
      storage.applySnapshot(w.snapshot);
      sm.applySnapshot(w.snapshot.meta.index, w.snapshot.meta.term);
    }
    storage.append(w.entries);
    sm.append(w.entries);
    // What Raft.onPersisted does with a PersistAck.
    if (w.snapshot !== null) log.stableSnapTo(w.snapshot.meta.index);
    const last = w.entries[w.entries.length - 1];
    lastCompletedEpoch = w.epoch;
    if (last !== undefined && w.epoch === epoch) {
      log.stableTo(last.index, last.term);
      completed.push({ index: last.index, term: last.term, epoch: w.epoch });
    }
  };

  const handOut = (): void => {
    const ents = log.unstable.nextEntries();
    const snapshot = log.unstable.nextSnapshot();
    if (ents.length > 0) {
      // What is handed out is the not-yet-handed-out tail of the log, contiguous, ending at the last index.
      ents.forEach((e, k) => { if (e.index !== log.unstable.offsetInProgress + k) fail(`handed out a gap at ${e.index}`); });
      if (ents[ents.length - 1]!.index !== model.last) fail('handed out entries that do not end at the last index');
    }
    log.unstable.acceptInProgress();
    if (ents.length > 0 || snapshot !== null) writes.push({ entries: ents, snapshot, epoch });
  };

  for (const op of ops) {
    switch (op.k) {
      case 'follow': {
        const lo = model.first - 1;
        const prev = lo + (op.prev % (model.last + 2 - lo));
        const known = model.term(prev);
        const prevTerm = known === undefined ? model.lastTerm() : op.corrupt ? known + 1 : known;
        const accept = known !== undefined && known === prevTerm;
        let ents: Entry[] = [];
        if (accept) {
          // Entries that match ours first (never below our commit index: a real leader agrees there),
          // then entries of a possibly newer term that may conflict with our suffix.
          const m = Math.min(model.last - prev, Math.max(op.match, model.committed - prev));
          for (let j = prev + 1; j <= prev + m; j++) ents.push(entryAt(j, model.terms.get(j)!));
          const from = prev + m + 1;
          const before = model.term(prev + m)!;
          const nt = freshTerm(before + op.bump, from, before, op.count);
          const fresh = Array.from({ length: op.count }, (_, k) => entryAt(from + k, nt));
          register(fresh, before);
          ents.push(...fresh);
        } else {
          ents = [entryAt(prev + 1, prevTerm + 1)];
        }
        const oldLast = model.last;
        const oldTerms = new Map(model.terms);
        const got = log.maybeAppend(prev as Index, prevTerm as Term, op.commit as Index, ents);
        if (!accept) {
          if (got !== undefined) fail(`append after ${prevTerm}/${prev} accepted though our log has ${String(known)} there`);
          break;
        }
        const lastNew = prev + ents.length;
        if (got !== lastNew) fail(`maybeAppend returned ${String(got)}, expected ${lastNew}`);
        const conflict = ents.find((e) => model.term(e.index) !== e.term);
        // Only a leader of a newer term overwrites: a new epoch (see `epoch`).
        if (conflict !== undefined && conflict.index <= oldLast) epoch++;
        if (conflict !== undefined) {
          model.truncateFrom(conflict.index);
          model.push(ents.slice(conflict.index - (prev + 1)));
        }
        model.committed = Math.max(model.committed, Math.min(op.commit, lastNew));
        // Figure 2 receiver rule 3: without a conflict nothing is deleted, whatever the order of appends.
        if (conflict === undefined) {
          if (log.lastIndex() !== oldLast) fail(`a matching append changed the last index ${oldLast} -> ${log.lastIndex()}`);
          for (let j = model.first; j <= oldLast; j++) if (log.term(j as Index) !== oldTerms.get(j)) fail(`a matching append changed entry ${j}`);
        }
        break;
      }
      case 'lead': {
        const from = model.last + 1;
        const nt = freshTerm(model.lastTerm() + op.bump, from, model.lastTerm(), op.count);
        const ents = Array.from({ length: op.count }, (_, k) => entryAt(from + k, nt));
        register(ents, model.lastTerm());
        log.append(ents);
        model.push(ents);
        break;
      }
      case 'handOut':
        handOut();
        break;
      case 'complete':
        complete();
        break;
      case 'drain':
        handOut();
        while (writes.length > 0) complete();
        // Every write done, the last of the current epoch: nothing may stay unstable. (Entries whose write
        // belonged to an older epoch become stable with the next write of the current one.)
        if (lastCompletedEpoch === epoch && (log.unstable.entries.length !== 0 || log.unstable.snapshot !== null)) fail('entries still unstable after every write completed');
        break;
      case 'replayAck': {
        // A duplicate completion of an earlier write (PITFALLS 5).
        if (completed.length === 0) break;
        const ack = completed[op.pick % completed.length]!;
        if (ack.epoch !== epoch) break; // Raft drops completions from an older term
        const offset = log.unstable.offset;
        const current = log.unstable.maybeTerm(ack.index as Index);
        log.stableTo(ack.index as Index, ack.term as Term);
        if (current !== ack.term && log.unstable.offset !== offset) fail(`stale ack ${ack.term}/${ack.index} marked entries stable though the entry there now has term ${String(current)}`);
        break;
      }
      case 'bogusAck': {
        // An acknowledgement of an entry that is not the one at that index: never marks anything stable.
        const n = log.unstable.entries.length;
        if (n === 0) break;
        const i = log.unstable.offset + (op.at % n);
        const offset = log.unstable.offset;
        log.stableTo(i as Index, (model.term(i)! + 1 + op.bump) as Term);
        if (log.unstable.offset !== offset) fail(`an ack with the wrong term marked ${i} stable`);
        break;
      }
      case 'compact': {
        if (log.unstable.snapshot !== null) break;
        const lo = storage.firstIndex();
        const hi = Math.min(model.committed, log.unstable.offset - 1, storage.lastIndex());
        if (hi < lo) break;
        const i = lo + (op.at % (hi - lo + 1));
        storage.createSnapshot(i as Index, EMPTY_CONF_STATE, new Uint8Array(0));
        storage.compact(i as Index);
        sm.compact(i);
        model.first = i + 1;
        break;
      }
      case 'restore': {
        const index = model.committed + 1 + op.ahead;
        const base = model.term(Math.min(index, model.last)) ?? model.lastTerm();
        const st = Math.max(1, base + op.bump);
        if (!pred.has(`${index}/${st}`)) pred.set(`${index}/${st}`, -1);
        const s: Snapshot = { meta: { index: index as Index, term: st as Term, confState: EMPTY_CONF_STATE }, data: new Uint8Array(0) };
        log.restore(s);
        epoch++; // a snapshot comes from a leader of a newer term
        model.truncateFrom(model.first);
        model.terms = new Map([[index, st]]);
        model.first = index + 1;
        model.last = index;
        model.committed = index;
        break;
      }
    }
    checkAgainstModels(log, storage, model, sm, op);
  }
}

function checkAgainstModels(log: RaftLog, storage: MemoryStorage, model: LogModel, sm: StorageModel, op: Op): void {
  const where = `after ${JSON.stringify(op)}`;
  // MemoryStorage vs its array model.
  if (storage.firstIndex() !== sm.compacted + 1) fail(`${where}: storage first ${storage.firstIndex()} != ${sm.compacted + 1}`);
  if (storage.lastIndex() !== sm.last) fail(`${where}: storage last ${storage.lastIndex()} != ${sm.last}`);
  for (let i = sm.compacted; i <= sm.last; i++) if (storage.term(i as Index) !== sm.terms.get(i)) fail(`${where}: storage term(${i})`);
  if (sm.compacted > 0 && storage.term((sm.compacted - 1) as Index) !== undefined) fail(`${where}: storage term below compaction`);
  if (storage.term((sm.last + 1) as Index) !== undefined) fail(`${where}: storage term beyond last`);
  const stored = storage.entries(storage.firstIndex(), (sm.last + 1) as Index, BYTES_MAX);
  stored.forEach((e, k) => { if (show(e) !== show(entryAt(sm.compacted + 1 + k, sm.terms.get(sm.compacted + 1 + k)!))) fail(`${where}: storage entry ${e.index}`); });
  if (stored.length > 1 && storage.entries(storage.firstIndex(), (sm.last + 1) as Index, 1).length !== 1) fail(`${where}: storage byte limit must still return one entry`);

  // The log vs the model.
  if (log.firstIndex() !== model.first) fail(`${where}: first ${log.firstIndex()} != ${model.first}`);
  if (log.lastIndex() !== model.last) fail(`${where}: last ${log.lastIndex()} != ${model.last}`);
  if (log.committed !== model.committed) fail(`${where}: committed ${log.committed} != ${model.committed}`);
  if (log.committed > log.lastIndex()) fail(`${where}: committed beyond last`);
  if (log.lastTerm() !== model.lastTerm()) fail(`${where}: lastTerm`);
  for (let i = model.first - 1; i <= model.last; i++) {
    const got = log.term(i as Index);
    if (got !== model.terms.get(i)) fail(`${where}: term(${i}) = ${String(got)}, model says ${String(model.terms.get(i))}`);
  }
  if (model.first >= 2 && log.term((model.first - 2) as Index) !== undefined) fail(`${where}: term below the first index`);
  if (log.term((model.last + 1) as Index) !== undefined) fail(`${where}: term beyond the last index`);
  const ents = log.slice(model.first as Index, (model.last + 1) as Index, BYTES_MAX);
  ents.forEach((e, k) => { if (show(e) !== show(entryAt(model.first + k, model.terms.get(model.first + k)!))) fail(`${where}: slice entry ${model.first + k} is ${show(e)}`); });
  // What the log treats as durable (below the unstable offset) is exactly what storage holds (PITFALLS 5).
  if (log.unstable.snapshot === null) {
    for (let i = model.first; i < log.unstable.offset; i++) {
      if (storage.term(i as Index) !== model.terms.get(i)) fail(`${where}: entry ${i} is treated as durable, but storage holds term ${String(storage.term(i as Index))} there, not ${String(model.terms.get(i))}`);
    }
  }
}

describe('RaftLog and MemoryStorage vs an array model', () => {
  it('agree after every operation when no lost entry is appended again while its write is in flight', () => {
    fc.assert(fc.property(initialArb, fc.array(opArb, { minLength: 1, maxLength: 120, size: 'max' }), (initial, ops) => {
      runLogModel(initial, ops, { reappend: false });
    }), { numRuns: 3000 });
  });

  // Regression (found by this test, fixed in Raft.onPersisted): etcd's async_storage_writes_append_aba_race. Required: a completion of write W1 for entry (i, t)
  // must not mark entry i durable while a later write W2 that overwrites i (with another term) is still
  // in flight — even if the log has meanwhile gone back to the same entry (i, t) (step 7 of etcd's
  // scenario: the old leader re-sends its entry). Actual: UnstableLog.stableTo only compares (i, t), so
  // W1's completion marks i stable; when W2 completes, storage holds W2's entry at i and the log reads
  // it as durable (log.term(i) returns W2's term) until the re-append's own write lands. etcd closes
  // this by also checking that the Raft term (the "last accepted term") has not changed since the write
  // was handed out. See the minimal reproductions below.
  it('agree after every operation, including an entry appended again after being overwritten (async-append ABA)', () => {
    fc.assert(fc.property(initialArb, fc.array(opArb, { minLength: 1, maxLength: 120, size: 'max' }), (initial, ops) => {
      runLogModel(initial, ops, { reappend: true });
    }), { numRuns: 3000, seed: 1 });
  });
});

describe('RaftLog: targeted cases', () => {
  function logWith(terms: readonly number[]): { log: RaftLog; storage: MemoryStorage } {
    const storage = new MemoryStorage();
    storage.append(terms.map((t, k) => entryAt(k + 1, t)));
    return { log: new RaftLog(storage, BYTES_MAX), storage };
  }
  const termsOf = (log: RaftLog): (number | undefined)[] => Array.from({ length: log.lastIndex() }, (_, k) => log.term((k + 1) as Index));

  // Figure 2 receiver rule 3: only a conflicting entry (same index, different term) truncates (PITFALLS 13).
  it('truncates only from the first conflicting entry', () => {
    const { log } = logWith([1, 1, 2, 2]);
    expect(log.maybeAppend(1 as Index, 1 as Term, 0 as Index, [entryAt(2, 1)])).toBe(2);
    expect(termsOf(log)).toEqual([1, 1, 2, 2]);
    expect(log.maybeAppend(0 as Index, 0 as Term, 0 as Index, [entryAt(1, 1), entryAt(2, 1), entryAt(3, 2)])).toBe(3);
    expect(termsOf(log)).toEqual([1, 1, 2, 2]);
    expect(log.maybeAppend(2 as Index, 1 as Term, 0 as Index, [entryAt(3, 3)])).toBe(3);
    expect(termsOf(log)).toEqual([1, 1, 3]);
    expect(log.maybeAppend(3 as Index, 2 as Term, 0 as Index, [entryAt(4, 3)])).toBeUndefined();
    expect(termsOf(log)).toEqual([1, 1, 3]);
  });

  it('never moves the commit index backwards and never commits beyond the last new entry', () => {
    const { log } = logWith([1, 1, 1]);
    log.maybeAppend(0 as Index, 0 as Term, 9 as Index, [entryAt(1, 1)]);
    expect(log.committed).toBe(1);
    log.maybeAppend(3 as Index, 1 as Term, 3 as Index, []);
    expect(log.committed).toBe(3);
    log.maybeAppend(1 as Index, 1 as Term, 1 as Index, [entryAt(2, 1)]);
    log.commitTo(2 as Index);
    expect(log.committed).toBe(3);
  });

  // PITFALLS 5, the simple form: the entry at i changed term since the write began.
  it('a completion for (i, t) does not mark a different entry at i stable', () => {
    const { log, storage } = logWith([1]);
    log.append([entryAt(2, 1)]);
    const w1 = log.unstable.nextEntries();
    log.unstable.acceptInProgress();
    log.maybeAppend(1 as Index, 1 as Term, 0 as Index, [entryAt(2, 2)]);
    storage.append(w1);
    log.stableTo(2 as Index, 1 as Term);
    expect(log.unstable.offset).toBe(2);
    expect(log.term(2 as Index)).toBe(2);
  });

  // The full ABA (etcd's async_storage_writes_append_aba_race): A's entry 2/1 is being written (W1, term
  // 1); C's 2/2 overwrites it (W2, term 2); A, leader again, re-sends 2/1 (W3, term 3). Raft.onPersisted
  // drops the entries of completions handed out in an older term, so W1's and W2's completions mark
  // nothing: index 2 stays unstable (and reads as 2/1) until W3, which writes it last, completes.
  it('a completion does not mark an entry durable while a later in-flight write will overwrite it (ABA)', () => {
    const { log, storage } = logWith([1]);
    const handOut = (): Entry[] => {
      const ents = log.unstable.nextEntries();
      log.unstable.acceptInProgress();
      return ents;
    };
    log.append([entryAt(2, 1)]);
    const w1 = handOut();
    log.maybeAppend(1 as Index, 1 as Term, 0 as Index, [entryAt(2, 2)]);
    const w2 = handOut();
    log.maybeAppend(1 as Index, 1 as Term, 0 as Index, [entryAt(2, 1)]);
    const w3 = handOut();
    storage.append(w1); // completion of a term-1 write at term 3: no stableTo
    storage.append(w2); // completion of a term-2 write at term 3: no stableTo
    expect(log.term(2 as Index)).toBe(1);
    expect(log.unstable.offset).toBe(2);
    storage.append(w3);
    log.stableTo(2 as Index, 1 as Term);
    expect(log.unstable.offset).toBe(3);
    expect(log.term(2 as Index)).toBe(1);
    expect(storage.term(2 as Index)).toBe(1);
  });

  // The same race across a snapshot, where it would lose an entry for good. W1 writes [1/1 2/1 3/1] (term
  // 1); 2/2 overwrites index 2 (W2, term 2); a snapshot at 2/1 replaces the log and the leader sends 3/1
  // again (term 3). W1's and W2's completions are from older terms and mark nothing, so 3/1 stays unstable
  // and is handed out for writing (W3), and the log still ends at 3 once everything is durable.
  it('a completion from before a snapshot does not make a later entry vanish unwritten (ABA across restore)', () => {
    const { log, storage } = logWith([]);
    const handOut = (): { entries: Entry[]; snapshot: Snapshot | null } => {
      const w = { entries: log.unstable.nextEntries(), snapshot: log.unstable.nextSnapshot() };
      log.unstable.acceptInProgress();
      return w;
    };
    log.maybeAppend(0 as Index, 0 as Term, 0 as Index, [entryAt(1, 1), entryAt(2, 1), entryAt(3, 1)]);
    const w1 = handOut();
    log.maybeAppend(1 as Index, 1 as Term, 0 as Index, [entryAt(2, 2)]);
    const w2 = handOut();
    log.restore({ meta: { index: 2 as Index, term: 1 as Term, confState: EMPTY_CONF_STATE }, data: new Uint8Array(0) });
    expect(log.maybeAppend(2 as Index, 1 as Term, 2 as Index, [entryAt(3, 1)])).toBe(3);
    storage.append(w1.entries); // a term-1 completion at term 3: no stableTo
    const w3 = handOut();
    expect(w3.entries.map((e) => e.index)).toEqual([3]);
    storage.append(w2.entries); // a term-2 completion at term 3: no stableTo
    storage.applySnapshot(w3.snapshot!);
    storage.append(w3.entries);
    log.stableSnapTo(2 as Index);
    log.stableTo(3 as Index, 1 as Term);
    expect(log.unstable.entries).toEqual([]);
    expect(log.lastIndex()).toBe(3);
    expect(storage.lastIndex()).toBe(3);
  });
});

describe('RawNode: the async-append ABA race end to end (PITFALLS 5)', () => {
  const app = (from: number, t: number, prev: { index: number; term: number }, ents: Entry[]): MsgApp => ({
    type: 'app', from: nodeId(from), to: nodeId(2), term: t as Term, index: prev.index as Index, logTerm: prev.term as Term, entries: ents, commit: 0 as Index,
  });

  // Regression (fixed): follower B (node 2) of five, with asynchronous writes. A (1) sends 2/1 in term 1 (write W1 starts);
  // C (3) sends 2/2 in term 2 (W2); A, leader again in term 3, re-sends 2/1 (W3). W1 and W2 complete, W3
  // not yet. C, leader of term 4, sends entry 3/4 after prev 2/2. Expected: B rejects it (its log holds 2/1
  // at index 2). Actual: B's log reads 2/2 from storage, accepts, and acknowledges index 3 to C; once W3
  // lands B durably holds [2/1, 3/4], a log no leader ever had (Log Matching broken), and C may count B
  // towards committing 2/2.
  it('a follower never acknowledges an append whose previous entry it does not durably hold', () => {
    const storage = new MemoryStorage();
    storage.applySnapshot({ meta: { index: 0 as Index, term: 0 as Term, confState: { ...EMPTY_CONF_STATE, voters: [1, 2, 3, 4, 5].map(nodeId) } }, data: new Uint8Array(0) });
    storage.append([entryAt(1, 1)]);
    storage.setHardState({ term: 1 as Term, vote: nodeId(0), commit: 1 as Index });
    const b = new RawNode({ id: nodeId(2), storage, rng: { nextInt: () => 0 }, logger: SILENT_LOGGER, preVote: false, checkQuorum: false });
    const pending: { entries: readonly Entry[]; ack: PersistAck; persisted: readonly Message[] }[] = [];
    const handle = (): void => {
      const rd = b.ready();
      b.advance();
      if (rd.persistAck !== null) pending.push({ entries: rd.entries, ack: rd.persistAck, persisted: rd.persistedMessages });
    };
    const persistOne = (): readonly Message[] => {
      const w = pending.shift()!;
      storage.append(w.entries);
      b.onPersisted(w.ack);
      return w.persisted;
    };

    b.step(app(1, 1, { index: 1, term: 1 }, [entryAt(2, 1)]));
    handle();
    b.step(app(3, 2, { index: 1, term: 1 }, [entryAt(2, 2)]));
    handle();
    b.step(app(1, 3, { index: 1, term: 1 }, [entryAt(2, 1)]));
    handle();
    persistOne();
    persistOne();
    b.step(app(3, 4, { index: 2, term: 2 }, [entryAt(3, 4)]));
    handle();
    const acks = [...persistOne(), ...persistOne()].filter((m) => m.type === 'appResp' && m.to === 3 && !m.reject);
    // After every write completed, storage holds B's real log.
    expect(storage.term(2 as Index)).toBe(1);
    expect(acks.map((m) => (m.type === 'appResp' ? m.index : -1))).not.toContain(3);
  });

  // Regression (fixed): the ABA race across a snapshot used to turn into an acknowledgement of an entry that is durable nowhere
  // on the follower (PITFALLS 4). B writes A's [1/1 2/1 3/1] (W1); C's 2/2 overwrites index 2 (W2); A'
  // (leader of term 3, compacted to 2/1) sends a snapshot at 2/1 and then 3/1. W1 completes before B's next
  // Ready. Expected: B writes 3/1 before acknowledging index 3. Actual: W1's completion matches the new
  // 3/1, which is never handed out for writing, yet B acknowledges index 3 once the snapshot is durable.
  it('a follower acknowledges an index only once that entry is durable, across a snapshot', () => {
    const storage = new MemoryStorage();
    const confState = { ...EMPTY_CONF_STATE, voters: [1, 2, 3, 4, 5].map(nodeId) };
    storage.applySnapshot({ meta: { index: 0 as Index, term: 0 as Term, confState }, data: new Uint8Array(0) });
    storage.setHardState({ term: 1 as Term, vote: nodeId(0), commit: 0 as Index });
    const b = new RawNode({ id: nodeId(2), storage, rng: { nextInt: () => 0 }, logger: SILENT_LOGGER, preVote: false, checkQuorum: false });
    const pending: { rd: ReturnType<RawNode['ready']> }[] = [];
    const handle = (): void => {
      const rd = b.ready();
      b.advance();
      if (rd.persistAck !== null) pending.push({ rd });
    };
    const persistOne = (): readonly Message[] => {
      const { rd } = pending.shift()!;
      if (rd.snapshot !== null) storage.applySnapshot(rd.snapshot);
      storage.append(rd.entries);
      if (rd.hardState !== null) storage.setHardState(rd.hardState);
      b.onPersisted(rd.persistAck!);
      return rd.persistedMessages;
    };

    b.step(app(1, 1, { index: 0, term: 0 }, [entryAt(1, 1), entryAt(2, 1), entryAt(3, 1)]));
    handle();
    b.step(app(3, 2, { index: 1, term: 1 }, [entryAt(2, 2)]));
    handle();
    const data = new Uint8Array([1, 2, 3]);
    b.step({ type: 'snap', from: nodeId(1), to: nodeId(2), term: 3 as Term, meta: { index: 2 as Index, term: 1 as Term, confState }, offset: 0, totalBytes: data.byteLength, chunk: data });
    b.step(app(1, 3, { index: 2, term: 1 }, [entryAt(3, 1)]));
    persistOne();
    handle();
    const sent = [...persistOne(), ...persistOne()];
    const acked = Math.max(...sent.map((m) => (m.type === 'appResp' && !m.reject && m.to === 1 ? m.index : 0)));
    expect(acked).toBe(3);
    expect(storage.lastIndex()).toBeGreaterThanOrEqual(acked);
  });
});

describe('RawNode: restart after compaction', () => {
  // Regression (fixed: commit starts at max(stored commit, snapshot index)): Ready.mustSync says a commit-only hard state change "need not be synced: the host may write it
  // lazily, with its next synced write". A host that applies entries 1-3, snapshots and compacts at 3, and
  // crashes before its next synced write restarts with hard state commit 1 and a snapshot at 3. Expected:
  // the node restarts with commit 3 (a snapshot only ever covers committed entries). Actual: the Raft
  // constructor asserts "hard state commit 1 out of [3, 3]" and the node cannot start again.
  it('restarts when the durable commit index lags behind the snapshot', () => {
    const storage = new MemoryStorage();
    const confState = { ...EMPTY_CONF_STATE, voters: [nodeId(1)] };
    storage.applySnapshot({ meta: { index: 0 as Index, term: 0 as Term, confState }, data: new Uint8Array(0) });
    storage.append([entryAt(1, 1), entryAt(2, 1), entryAt(3, 1)]);
    storage.setHardState({ term: 1 as Term, vote: nodeId(1), commit: 1 as Index });
    storage.createSnapshot(3 as Index, confState, new Uint8Array(0));
    storage.compact(3 as Index);
    const node = new RawNode({ id: nodeId(1), storage, rng: { nextInt: () => 0 }, logger: SILENT_LOGGER, applied: 3 as Index });
    expect(node.status().commit).toBe(3);
  });
});

