// The partition machine's snapshots (broker/partition/partition-machine.ts) against its own log: a
// snapshot describes the state at compactableIndex() (not at the applied index), so a replica restored
// from it that replays the entries after that index must reach the state of the replica that applied
// everything, and answer every entry it applies the same way (offset, duplicate, error). Histories are
// random: idempotent producers (in order, retries, gaps, epoch bumps, fenced epochs), plain producers
// (whose retries do repeat), trims at arbitrary points and by retention, empty and corrupt entries.
// The producer state is part of the snapshot, so a restored replica keeps deduplicating; the planted
// bug that leaves it out (producerStateNotInSnapshots) must make this property fail.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand, type PartitionCommand, type ProduceRecord, type ProducerInfo } from '../../../broker/partition/batch-codec.ts';
import { PartitionMachine, type ApplyOutcome, type PartitionPlantedBugs } from '../../../broker/partition/partition-machine.ts';
import type { Entry, Index } from '../../../raft/types.ts';
import { entryOf, pid, produce, rec, trim, view } from './support.ts';

type Action =
  | { readonly kind: 'send'; readonly producer: number; readonly count: number; readonly stamped: boolean }
  | { readonly kind: 'retry'; readonly producer: number; readonly back: number }
  | { readonly kind: 'gap'; readonly producer: number }
  | { readonly kind: 'bump'; readonly producer: number }
  | { readonly kind: 'fenced'; readonly producer: number }
  | { readonly kind: 'trim'; readonly frac: number }
  | { readonly kind: 'retain'; readonly bytes: number; readonly ms: number }
  | { readonly kind: 'empty' }
  | { readonly kind: 'corrupt' };

/** Producer 0 is a plain (non-idempotent) producer; 1..IDEMPOTENT are idempotent. */
const IDEMPOTENT = 3;
const producerNo = fc.integer({ min: 1, max: IDEMPOTENT });
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('send' as const), producer: fc.integer({ min: 0, max: IDEMPOTENT }), count: fc.integer({ min: 1, max: 4 }), stamped: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('retry' as const), producer: fc.integer({ min: 0, max: IDEMPOTENT }), back: fc.nat({ max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('gap' as const), producer: producerNo }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bump' as const), producer: producerNo }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fenced' as const), producer: producerNo }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('trim' as const), frac: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retain' as const), bytes: fc.integer({ min: -1, max: 400 }), ms: fc.integer({ min: -1, max: 300 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'empty' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'corrupt' as const }) },
);

interface SentBatch {
  readonly producer: ProducerInfo | null;
  readonly records: readonly ProduceRecord[];
  /** Raft index of the entry that first carried it. */
  readonly index: number;
}

interface Client {
  epoch: number;
  nextSeq: number;
  readonly sent: SentBatch[];
}

/** A history: the entries (built against machine A as it applies them) and A's outcome of each. */
interface History {
  readonly entries: Entry[];
  readonly outcomes: unknown[];
  readonly clients: Client[];
  readonly a: PartitionMachine;
}

const nowAt = (i: number): number => 1_000 + 10 * i;

/** Turns an action into a command, given the writer's clients and A's current state (for trims). */
function commandFor(act: Action, a: PartitionMachine, clients: Client[], i: number): PartitionCommand | Uint8Array | null {
  const now = nowAt(i);
  switch (act.kind) {
    case 'send': {
      const c = clients[act.producer] as Client;
      const records = Array.from({ length: act.count }, (_, j) => rec(`p${act.producer}e${c.epoch}s${c.nextSeq + j}#${i}`, act.stamped ? { timestamp: now - 50 + j } : {}));
      const producer = act.producer === 0 ? null : pid(1_000 + act.producer, c.epoch, c.nextSeq);
      c.nextSeq += act.count;
      c.sent.push({ producer, records, index: i });
      return produce(records, producer, now);
    }
    case 'retry': {
      const c = clients[act.producer] as Client;
      const b = c.sent[c.sent.length - 1 - (act.back % Math.max(1, c.sent.length))];
      return b === undefined ? null : produce(b.records, b.producer, now);
    }
    case 'gap': {
      const c = clients[act.producer] as Client;
      return produce([rec(`gap#${i}`)], pid(1_000 + act.producer, c.epoch, c.nextSeq + 1), now);
    }
    case 'bump': {
      const c = clients[act.producer] as Client;
      c.epoch++;
      c.nextSeq = 1;
      const records = [rec(`p${act.producer}e${c.epoch}s0#${i}`)];
      const producer = pid(1_000 + act.producer, c.epoch, 0);
      c.sent.push({ producer, records, index: i });
      return produce(records, producer, now);
    }
    case 'fenced': {
      const c = clients[act.producer] as Client;
      return c.epoch === 0 ? null : produce([rec(`fenced#${i}`)], pid(1_000 + act.producer, c.epoch - 1, 0), now);
    }
    case 'trim':
      return trim(a.logStartOffset + Math.floor(act.frac * (a.nextOffset - a.logStartOffset + 2)));
    case 'retain': {
      const t = a.retentionTarget(act.bytes, act.ms, now);
      return t === undefined ? null : trim(t);
    }
    case 'empty':
      return null;
    case 'corrupt': {
      const data = encodeCommand(produce([rec(`corrupt#${i}`)], null, now));
      data[data.byteLength - 1] = (data[data.byteLength - 1] as number) ^ 0x10;
      return data;
    }
  }
}

/**
 * Applies the actions to a fresh machine A, one entry each. `onApplied(i)` runs after entry i (1-based),
 * e.g. to take a snapshot at that moment.
 */
function buildHistory(actions: readonly Action[], bugs: PartitionPlantedBugs, onApplied: (i: number, a: PartitionMachine) => void = () => {}): History {
  const a = new PartitionMachine(bugs);
  const clients: Client[] = Array.from({ length: IDEMPOTENT + 1 }, () => ({ epoch: 0, nextSeq: 0, sent: [] }));
  const entries: Entry[] = [];
  const outcomes: unknown[] = [];
  actions.forEach((act, k) => {
    const i = k + 1;
    const e = entryOf(i, commandFor(act, a, clients, i));
    entries.push(e);
    outcomes.push(a.apply(e));
    onApplied(i, a);
  });
  return { entries, outcomes, clients, a };
}

interface Snap {
  readonly data: Uint8Array;
  readonly index: Index;
}

const takeSnap = (m: PartitionMachine): Snap => ({ data: m.snapshot(), index: m.compactableIndex() });

function restored(s: Snap, bugs: PartitionPlantedBugs): PartitionMachine {
  const m = new PartitionMachine(bugs);
  m.restore(s.data, s.index);
  return m;
}

/** Everything two replicas of one log must agree on at the end. */
function agreement(m: PartitionMachine): unknown {
  return { ...view(m), producers: m.producers.toJSON(), snapshot: new TextDecoder().decode(m.snapshot()), compactable: m.compactableIndex() };
}

/** Differences between B (restored from `snap`, then fed every entry after snap.index) and A. */
function divergence(h: History, snap: Snap, bugs: PartitionPlantedBugs): string[] {
  const b = restored(snap, bugs);
  const problems: string[] = [];
  for (const e of h.entries) {
    if (e.index <= snap.index) continue;
    const got = JSON.stringify(b.apply(e));
    const want = JSON.stringify(h.outcomes[e.index - 1]);
    if (got !== want) problems.push(`entry ${e.index}: A answered ${want}, B answered ${got}`);
  }
  const [va, vb] = [JSON.stringify(agreement(h.a)), JSON.stringify(agreement(b))];
  if (va !== vb) problems.push(`final state: A ${va} / B ${vb}`);
  return problems;
}

const scenario = fc.record({
  actions: fc.array(actionArb, { minLength: 1, maxLength: 80, size: 'max' }),
  at: fc.nat(),
});

/** The property of the brief: a snapshot taken at a random moment, restored, and the rest replayed. */
function snapshotProperty(bugs: PartitionPlantedBugs, stats?: { compacted: number; runs: number }) {
  return fc.property(scenario, ({ actions, at }) => {
    const snapAfter = (at % actions.length) + 1;
    let snap: Snap | undefined;
    const h = buildHistory(actions, bugs, (i, a) => {
      if (i === snapAfter) snap = takeSnap(a);
    });
    if (snap === undefined) throw new Error('no snapshot taken');
    if (stats !== undefined) {
      stats.runs++;
      if (snap.index > 0) stats.compacted++;
    }
    const problems = divergence(h, snap, bugs);
    if (problems.length > 0) throw new Error(problems.slice(0, 3).join('\n'));
  });
}

describe('restore from the snapshot at compactableIndex, then replay the rest', () => {
  it('agrees with the replica that applied everything: outcomes, offsets, log start, contents (property)', () => {
    const stats = { compacted: 0, runs: 0 };
    fc.assert(snapshotProperty({}, stats), { numRuns: 400 });
    // The property is only worth something if snapshots past index 0 were exercised.
    expect(stats.compacted).toBeGreaterThan(stats.runs / 4);
  });

  it('the snapshot describes the compaction point, not the applied index: B must replay entries from compactableIndex + 1', () => {
    const actions: Action[] = [
      { kind: 'send', producer: 1, count: 2, stamped: false },
      { kind: 'send', producer: 0, count: 1, stamped: false },
      { kind: 'trim', frac: 0.5 },
      { kind: 'send', producer: 1, count: 1, stamped: false },
      { kind: 'empty' },
    ];
    const h = buildHistory(actions, {});
    expect(h.a.logStartOffset).toBe(2);
    const snap = takeSnap(h.a);
    expect(snap.index).toBe(1);
    expect(divergence(h, snap, {})).toEqual([]);
    const b = restored(snap, {});
    expect(b.nextOffset).toBe(2);
    // Restored alone (without the replay) it is at index 1's state: the batch at index 2 is still to come.
    expect(b.read(0, 1_000).records).toEqual([]);
  });

  it('successive restores (a follower restored from a replica that was itself restored) still agree (property)', () => {
    fc.assert(fc.property(fc.array(actionArb, { minLength: 1, maxLength: 80, size: 'max' }), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), (actions, points) => {
      const restoreAfter = new Set(points.map((p) => (p % actions.length) + 1));
      const h = buildHistory(actions, {});
      let f = new PartitionMachine();
      const problems: string[] = [];
      for (const e of h.entries) {
        const got = JSON.stringify(f.apply(e));
        if (got !== JSON.stringify(h.outcomes[e.index - 1])) problems.push(`entry ${e.index}: ${got} vs ${JSON.stringify(h.outcomes[e.index - 1])}`);
        if (!restoreAfter.has(e.index)) continue;
        const snap = takeSnap(f);
        f = restored(snap, {});
        // Catch up from the compaction point to here; these were answered before, answers must not change.
        for (const r of h.entries.slice(snap.index, e.index)) {
          const again = JSON.stringify(f.apply(r));
          if (again !== JSON.stringify(h.outcomes[r.index - 1])) problems.push(`replayed entry ${r.index}: ${again}`);
        }
      }
      expect(problems).toEqual([]);
      expect(agreement(f)).toEqual(agreement(h.a));
    }), { numRuns: 300 });
  });

  it('restoring a snapshot replaces whatever state the machine had', () => {
    const h = buildHistory([{ kind: 'send', producer: 1, count: 3, stamped: false }, { kind: 'trim', frac: 1 }, { kind: 'send', producer: 2, count: 1, stamped: false }], {});
    const other = buildHistory(Array.from({ length: 10 }, () => ({ kind: 'send', producer: 3, count: 2, stamped: true }) as const), {}).a;
    const snap = takeSnap(h.a);
    other.restore(snap.data, snap.index);
    for (const e of h.entries.slice(snap.index)) other.apply(e);
    expect(agreement(other)).toEqual(agreement(h.a));
  });
});

/** Retries of every batch each client sent, newest first, plus one new batch per producer. */
function retriesAndMore(h: History): PartitionCommand[] {
  const out: PartitionCommand[] = [];
  h.clients.forEach((c, p) => {
    for (const b of [...c.sent].reverse()) out.push(produce(b.records, b.producer, 99_000));
    if (p > 0) out.push(produce([rec(`after-${p}`)], pid(1_000 + p, c.epoch, c.nextSeq), 99_000));
  });
  return out;
}

/** B restored from A's snapshot and caught up; then both get the same retries. Returns B's problems. */
function retryAfterRestore(actions: readonly Action[], bugs: PartitionPlantedBugs): string[] {
  const h = buildHistory(actions, bugs);
  const snap = takeSnap(h.a);
  const b = restored(snap, bugs);
  for (const e of h.entries.slice(snap.index)) b.apply(e);
  const problems: string[] = [];
  let i = h.entries.length;
  // The offset each idempotent batch got when first written, to check what its duplicate answers.
  const original = new Map<number, unknown>(h.entries.map((e) => [e.index, h.outcomes[e.index - 1]]));
  // Each producer's last five batches of its current epoch are duplicates at their original offsets, on A and on B.
  h.clients.forEach((c, p) => {
    if (p === 0) return;
    const current = c.sent.filter((s) => s.producer?.producerEpoch === c.epoch);
    for (const s of current.slice(-5)) {
      const first = original.get(s.index) as ApplyOutcome;
      const e = entryOf(++i, produce(s.records, s.producer, 99_500));
      for (const [name, m] of [['A', h.a], ['B', b]] as const) {
        const again = m.apply(e) as ApplyOutcome;
        if (!first.ok || !again.ok || again.baseOffset !== first.baseOffset || !again.duplicate) problems.push(`${name}: retry of entry ${s.index} answered ${JSON.stringify(again)}, first ${JSON.stringify(first)}`);
      }
    }
  });
  for (const c of retriesAndMore(h)) {
    const e = entryOf(++i, c);
    const want = h.a.apply(e) as ApplyOutcome;
    const got = b.apply(e) as ApplyOutcome;
    if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`retry ${JSON.stringify(c.type === 'produce' ? c.producer : c)}: A ${JSON.stringify(want)}, B ${JSON.stringify(got)}`);
  }
  if (JSON.stringify(view(b)) !== JSON.stringify(view(h.a))) {
    problems.push(`state: A ${JSON.stringify(view(h.a))} / B ${JSON.stringify(view(b))}`);
  }
  return problems;
}

describe('deduplication survives a restore (producer state is in the snapshot)', () => {
  it('retries of batches written before and after the snapshot point are answered alike (property)', () => {
    fc.assert(fc.property(fc.array(actionArb, { minLength: 1, maxLength: 80, size: 'max' }), (actions) => {
      expect(retryAfterRestore(actions, {})).toEqual([]);
    }), { numRuns: 300 });
  });

  it('a concrete case: the retry of a batch below the snapshot point is a duplicate at its original offset', () => {
    const m = new PartitionMachine();
    const e = [produce(['a', 'b'], pid(5, 0, 0)), produce(['c'], pid(5, 0, 2)), produce(['x']), trim(3)].map((c, k) => entryOf(k + 1, c));
    for (const x of e) m.apply(x);
    // Offsets 0-1 (index 1) and 2 (index 2) are dropped; the first kept batch is at index 3.
    expect(m.compactableIndex()).toBe(2);
    const b = restored(takeSnap(m), {});
    for (const x of e.slice(2)) b.apply(x);
    expect(b.apply(entryOf(5, produce(['a', 'b'], pid(5, 0, 0))))).toMatchObject({ ok: true, baseOffset: 0, duplicate: true });
    expect(b.apply(entryOf(6, produce(['c'], pid(5, 0, 2))))).toMatchObject({ ok: true, baseOffset: 2, duplicate: true });
    expect(b.apply(entryOf(7, produce(['d'], pid(5, 0, 3))))).toMatchObject({ ok: true, baseOffset: 4, duplicate: false });
    expect(b.nextOffset).toBe(5);
  });
});

describe('the planted bug producerStateNotInSnapshots is caught', () => {
  const bugs: PartitionPlantedBugs = { producerStateNotInSnapshots: true };

  it('a concrete case: after the restore the retry is appended a second time', () => {
    const m = new PartitionMachine(bugs);
    const e = [produce(['a', 'b'], pid(5, 0, 0)), produce(['x']), trim(2)].map((c, k) => entryOf(k + 1, c));
    for (const x of e) m.apply(x);
    const b = restored(takeSnap(m), bugs);
    for (const x of e.slice(m.compactableIndex())) b.apply(x);
    expect(view(b)).toEqual(view(m));
    const retry = entryOf(4, produce(['a', 'b'], pid(5, 0, 0)));
    expect(m.apply(retry)).toMatchObject({ ok: true, baseOffset: 0, duplicate: true });
    expect(b.apply(retry)).toMatchObject({ ok: true, baseOffset: 3, duplicate: false });
    // From then on the replicas' offsets differ.
    const next = entryOf(5, produce(['c'], pid(5, 0, 2)));
    expect(m.apply(next)).toMatchObject({ ok: true, baseOffset: 3, duplicate: false });
    expect(b.apply(next)).toMatchObject({ ok: true, baseOffset: 5, duplicate: false });
  });

  it('a concrete case: after the restore the producer\'s next batch is refused', () => {
    const m = new PartitionMachine(bugs);
    const e = [produce(['a', 'b'], pid(5, 0, 0)), produce(['x']), trim(2)].map((c, k) => entryOf(k + 1, c));
    for (const x of e) m.apply(x);
    const b = restored(takeSnap(m), bugs);
    for (const x of e.slice(m.compactableIndex())) b.apply(x);
    const next = entryOf(4, produce(['c'], pid(5, 0, 2)));
    expect(m.apply(next)).toMatchObject({ ok: true, baseOffset: 3, duplicate: false });
    expect(b.apply(next)).toMatchObject({ ok: false, code: 'OUT_OF_ORDER_SEQUENCE' });
  });

  it('the restore-and-replay property finds a divergence', () => {
    const r = fc.check(snapshotProperty(bugs), { numRuns: 400, seed: 1 });
    expect(r.failed).toBe(true);
    expect(String(r.errorInstance)).toMatch(/A answered|final state/);
  });

  it('the restore-and-replay property finds it for other seeds too', () => {
    let caught = 0;
    for (let seed = 2; seed < 7; seed++) {
      const r = fc.check(snapshotProperty(bugs), { numRuns: 400, seed });
      if (r.failed && /A answered|final state/.test(String(r.errorInstance))) caught++;
    }
    expect(caught).toBe(5);
  });

  it('the retry-after-restore property finds a divergence', () => {
    const r = fc.check(fc.property(fc.array(actionArb, { minLength: 1, maxLength: 80, size: 'max' }), (actions) => {
      const problems = retryAfterRestore(actions, bugs);
      if (problems.length > 0) throw new Error(problems.slice(0, 3).join('\n'));
    }), { numRuns: 400, seed: 1 });
    expect(r.failed).toBe(true);
    // Failed because B answered differently (not because of an error in the test itself).
    expect(String(r.errorInstance)).toMatch(/B: retry of entry|retry .*: A .*, B |state: A/);
  });

  it('the same scenarios without the bug agree (the divergence is the bug, not the property)', () => {
    const r = fc.check(snapshotProperty({}), { numRuns: 400, seed: 1 });
    expect(r.failed).toBe(false);
  });
});
