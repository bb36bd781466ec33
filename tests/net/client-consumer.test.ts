// Reading a topic back (net/client/consumer.ts) from a fake client: every partition from the earliest
// offset up to the high watermark seen at the start, a given offset, a record limit, records appended
// meanwhile left out unless following, a leader that is briefly behind (empty answers) waited for;
// following merges the partitions' tails as records arrive; as a consumer group it starts at the
// group's commits and commits what was processed.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { GroupMembers } from '../../controller/group-members.ts';
import { Consumer, type ConsumerHost } from '../../net/client/consumer.ts';
import type { MemberHeartbeatAnswer, MemberHeartbeatRequest } from '../../net/client/group-membership.ts';
import { mergeTails } from '../../net/client/merge-tails.ts';
import type { ClientEnv } from '../../net/client/env.ts';
import { KeelError } from '../../net/client/errors.ts';
import type { ConsumedRecord, FetchResult } from '../../net/client/records.ts';
import type { OffsetSpec, TopicInfo } from '../../net/client/wire.ts';

/** V8's gc(), which node exposes only with --expose-gc: switched on here for this test file. */
function forcedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null): string => (b === null ? '' : new TextDecoder().decode(b));

/** A partition tail over a growing log: yields what is there, then waits for push() (or return()). */
class FakeTail implements AsyncIterator<ConsumedRecord> {
  returned = false;
  private wake: (() => void) | null = null;

  constructor(private readonly log: string[], private offset: number, private readonly failAt?: number) {}

  push(): void {
    this.wake?.();
  }

  async next(): Promise<IteratorResult<ConsumedRecord>> {
    while (!this.returned && this.offset >= this.log.length) await new Promise<void>((r) => { this.wake = r; });
    if (this.returned) return { done: true, value: undefined };
    if (this.offset === this.failAt) throw new KeelError({ code: 'OFFSET_OUT_OF_RANGE', message: 'trimmed', retriable: false });
    const offset = this.offset++;
    return { done: false, value: { offset, key: null, value: enc(this.log[offset]!), headers: [], timestamp: 0 } };
  }

  async return(): Promise<IteratorResult<ConsumedRecord>> {
    this.returned = true;
    this.wake?.();
    return { done: true, value: undefined };
  }
}

class FakeTopic implements ConsumerHost {
  readonly fetches: [number, number, number][] = [];
  /** Empty answers to give before real ones, per partition. */
  readonly lagging = new Map<number, number>();
  readonly tails = new Map<number, FakeTail>();
  /** Partition -> offset at which its tail fails. */
  readonly failTailAt = new Map<number, number>();
  /** Per group: committed offsets by partition. */
  readonly groups = new Map<string, Map<number, number>>();
  readonly commits: [string, number, [number, number][]][] = [];
  failCommits = false;
  /** The group coordinator's rules, as the controller applies them. */
  readonly members = new GroupMembers();
  readonly heartbeats: MemberHeartbeatRequest[] = [];
  nowMs = 0;
  readonly env: ClientEnv = { now: () => this.nowMs, setTimer: () => 0, clearTimer: () => {}, random: () => 0, requestId: () => 'r' };

  constructor(readonly logs: string[][], readonly logStart = 0, readonly perFetch = 2) {}

  async describeTopic(name: string): Promise<TopicInfo> {
    return { name, id: 1, replicationFactor: 1, configs: {}, partitions: this.logs.map((_, partition) => ({ partition, group: partition + 1, replicas: [1], leader: 1, leaderAddress: 'a:1', offline: [], reassigningTo: [] })) };
  }

  async listOffsets(_topic: string, partition: number, spec: OffsetSpec): Promise<{ offset: number; logStartOffset: number; highWatermark: number }> {
    const hw = this.logs[partition]!.length;
    return { offset: spec === 'earliest' ? this.logStart : hw, logStartOffset: this.logStart, highWatermark: hw };
  }

  async fetch(_topic: string, partition: number, offset: number, options: { maxWaitMs?: number } = {}): Promise<FetchResult> {
    this.fetches.push([partition, offset, options.maxWaitMs ?? 0]);
    const log = this.logs[partition]!;
    const lag = this.lagging.get(partition) ?? 0;
    if (lag > 0) {
      this.lagging.set(partition, lag - 1);
      return { records: [], highWatermark: offset, logStartOffset: this.logStart };
    }
    const records: ConsumedRecord[] = log.slice(offset, offset + this.perFetch).map((v, i) => ({ offset: offset + i, key: null, value: enc(v), headers: [], timestamp: 0 }));
    return { records, highWatermark: log.length, logStartOffset: this.logStart };
  }

  subscribe(_topic: string, partition: number, offset: number): FakeTail {
    const t = new FakeTail(this.logs[partition]!, offset, this.failTailAt.get(partition));
    this.tails.set(partition, t);
    return t;
  }

  append(partition: number, value: string): void {
    this.logs[partition]!.push(value);
    this.tails.get(partition)?.push();
  }

  async fetchOffsets(group: string): Promise<Map<number, number>> {
    return new Map(this.groups.get(group));
  }

  async memberHeartbeat(req: MemberHeartbeatRequest): Promise<MemberHeartbeatAnswer> {
    this.heartbeats.push(req);
    if (req.leave) {
      this.members.leave(req.groupId, req.memberId);
      return { assigned: [], pending: [], members: this.members.count(req.groupId), heartbeatIntervalMs: 1_000, sessionTimeoutMs: 10_000 };
    }
    const r = this.members.heartbeat(req.groupId, req.memberId, req.topic, this.logs.length, req.owned).result;
    if (!r.ok) throw new KeelError({ code: r.error.code, message: r.error.message, retriable: false });
    return { ...r.value, heartbeatIntervalMs: 1_000, sessionTimeoutMs: 10_000 };
  }

  async commitOffsets(group: string, topic: string, offsets: ReadonlyMap<number, number>, options: { topicId?: number; memberId?: string } = {}): Promise<Map<number, number>> {
    if (this.failCommits) throw new KeelError({ code: 'REQUEST_TIMED_OUT', message: 'commit timed out', retriable: true });
    if (options.memberId !== undefined) {
      const owns = this.members.owns(group, options.memberId, topic, [...offsets.keys()]);
      if (owns !== 'yes') throw new KeelError({ code: owns === 'unknown-member' ? 'UNKNOWN_MEMBER' : 'FENCED_MEMBER', message: `not owned: ${owns}`, retriable: false });
    }
    this.commits.push([group, options.topicId ?? -1, [...offsets]]);
    const stored = this.groups.get(group) ?? new Map<number, number>();
    for (const [p, o] of offsets) stored.set(p, Math.max(o, stored.get(p) ?? -1));
    this.groups.set(group, stored);
    return new Map(stored);
  }
}

const values = (rs: readonly { partition: number; value: Uint8Array | null }[]): string[] => rs.map((r) => `${r.partition}:${dec(r.value)}`);

describe('consumer', () => {
  it('reads every partition from the beginning up to the high watermark, partitions side by side', async () => {
    const t = new FakeTopic([['a0', 'a1', 'a2'], [], ['c0', 'c1', 'c2', 'c3', 'c4']]);
    const read = await new Consumer(t).readAll('t');
    expect(read.map((r) => `${r.partition}:${r.offset}:${dec(r.value)}`)).toEqual([
      '0:0:a0', '0:1:a1', '2:0:c0', '2:1:c1', '0:2:a2', '2:2:c2', '2:3:c3', '2:4:c4',
    ]);
    expect(read[0]).toMatchObject({ topic: 't', partition: 0, offset: 0 });
    // The empty partition was never fetched.
    expect(t.fetches.some(([p]) => p === 1)).toBe(false);
  });

  it('stops after maxRecords, and reads one partition from a given offset', async () => {
    const t = new FakeTopic([['a0', 'a1', 'a2', 'a3'], ['b0', 'b1']]);
    expect((await new Consumer(t).readAll('t', { maxRecords: 3 })).map((r) => dec(r.value))).toEqual(['a0', 'a1', 'b0']);
    expect((await new Consumer(t).readAll('t', { partitions: [0], from: 2 })).map((r) => dec(r.value))).toEqual(['a2', 'a3']);
    expect(await new Consumer(t).readAll('t', { from: 'latest' })).toEqual([]);
    await expect(new Consumer(t).readAll('t', { partitions: [5] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: false });
  });

  it('starts an offset outside the log at its nearest end when asked to, and says so', async () => {
    const t = new FakeTopic([['a0', 'a1', 'a2'], ['b0', 'b1', 'b2']], 1);
    const clamped: [number, number, number][] = [];
    const onOffsetClamped = (p: number, asked: number, startedAt: number): void => void clamped.push([p, asked, startedAt]);
    // Before the log start (records removed by retention): from the first record still there.
    expect(values(await new Consumer(t).readAll('t', { partitions: [0], from: 0, onOffsetClamped }))).toEqual(['0:a1', '0:a2']);
    // Past the end, following: from the end, so the next record appended is read.
    const read = new Consumer(t).read('t', { partitions: [1], from: 99, follow: true, onOffsetClamped });
    const first = read.next();
    while (!t.tails.has(1)) await new Promise((r) => setTimeout(r, 1));
    t.append(1, 'b3');
    expect((await first).value).toMatchObject({ partition: 1, offset: 3 });
    await read.return();
    expect(clamped).toEqual([[0, 0, 1], [1, 99, 3]]);
    // An offset inside the log is not touched.
    expect(values(await new Consumer(t).readAll('t', { partitions: [0], from: 2, onOffsetClamped }))).toEqual(['0:a2']);
    expect(clamped).toHaveLength(2);
  });

  it('leaves out records appended after it started unless following', async () => {
    const t = new FakeTopic([['a0', 'a1']], 0, 1);
    const seen: string[] = [];
    for await (const r of new Consumer(t).read('t')) {
      seen.push(dec(r.value));
      t.logs[0]!.push(`late${seen.length}`);
    }
    expect(seen).toEqual(['a0', 'a1']);
    const followed: string[] = [];
    for await (const r of new Consumer(t).read('t', { follow: true, maxRecords: 4 })) followed.push(dec(r.value));
    expect(followed).toEqual(['a0', 'a1', 'late1', 'late2']);
    // Followed on the partition's tail, which the read returned when it stopped.
    expect(t.tails.get(0)!.returned).toBe(true);
  });

  it('waits for a leader that is briefly behind the high watermark it reported', async () => {
    const t = new FakeTopic([['a0', 'a1']]);
    t.lagging.set(0, 3);
    expect((await new Consumer(t).readAll('t')).map((r) => dec(r.value))).toEqual(['a0', 'a1']);
    // The empty answers were followed by long polls, not a spin.
    expect(t.fetches.map(([, , wait]) => wait)).toEqual([0, 250, 250, 250]);
  });
});

describe('consumer, following', () => {
  it('hands out each partition\'s records as they arrive: a quiet partition holds back no other', async () => {
    const t = new FakeTopic([[], ['b0'], []]);
    const read = new Consumer(t).read('t', { follow: true });
    expect(values([(await read.next()).value!])).toEqual(['1:b0']);
    t.append(2, 'c0');
    expect(values([(await read.next()).value!])).toEqual(['2:c0']);
    t.append(1, 'b1');
    t.append(0, 'a0');
    const next2 = [(await read.next()).value!, (await read.next()).value!];
    expect(values(next2).sort()).toEqual(['0:a0', '1:b1']);
    await read.return();
    expect([...t.tails.values()].every((tail) => tail.returned)).toBe(true);
  });

  it('lets busy partitions take turns', async () => {
    const t = new FakeTopic([['a0', 'a1', 'a2'], ['b0', 'b1', 'b2']]);
    const got = values(await new Consumer(t).readAll('t', { follow: true, maxRecords: 4 }));
    expect(got.filter((v) => v.startsWith('0:'))).toHaveLength(2);
    expect(got.filter((v) => v.startsWith('1:'))).toHaveLength(2);
  });

  it('ends when its signal aborts, and returns every tail', async () => {
    const t = new FakeTopic([['a0'], []]);
    const stop = new AbortController();
    const seen: string[] = [];
    for await (const r of new Consumer(t).read('t', { follow: true, signal: stop.signal })) {
      seen.push(dec(r.value));
      stop.abort();
    }
    expect(seen).toEqual(['a0']);
    expect([...t.tails.values()].every((tail) => tail.returned)).toBe(true);
  });

  it('with idleTimeoutMs, ends once no record has come for that long, and returns every tail', async () => {
    const t = new FakeTopic([['a0'], []]);
    const timers: (() => void)[] = [];
    const env: ClientEnv = { ...t.env, setTimer: (fn) => timers.push(fn), clearTimer: () => {} };
    // Partitions named: no timer looks for new ones.
    const it = new Consumer(Object.assign(t, { env })).read('t', { partitions: [0, 1], follow: true, idleTimeoutMs: 1_000 });
    expect(dec((await it.next()).value?.value ?? null)).toBe('a0');
    const second = it.next();
    await new Promise((r) => setImmediate(r));
    expect(timers).toHaveLength(2); // armed once positioned, again at a0
    timers.at(-1)?.();
    expect((await second).done).toBe(true);
    expect([...t.tails.values()].every((tail) => tail.returned)).toBe(true);
  });

  it('following every partition, reads partitions added to the topic later from their start; with partitions named, it does not look', async () => {
    const t = new FakeTopic([['a0'], []]);
    const timers: (() => void)[] = [];
    const env: ClientEnv = { ...t.env, setTimer: (fn) => timers.push(fn), clearTimer: () => {} };
    const host = Object.assign(t, { env });
    const read = new Consumer(host).read('t', { follow: true, newPartitionsCheckMs: 5_000 });
    expect(values([(await read.next()).value!])).toEqual(['0:a0']);
    const next = read.next();
    t.logs.push(['c0', 'c1']); // partition 2, written before the reader looks
    await new Promise((r) => setImmediate(r));
    timers.shift()?.(); // the check is due
    expect(values([(await next).value!])).toEqual(['2:c0']);
    expect(values([(await read.next()).value!])).toEqual(['2:c1']);
    await read.return();
    expect([...t.tails.values()].every((tail) => tail.returned)).toBe(true);
    const named = new Consumer(host).read('t', { partitions: [0], follow: true });
    expect(values([(await named.next()).value!])).toEqual(['0:a0']);
    await named.return();
    expect(timers).toHaveLength(1); // the first reader's next check only
  });

  it('holds no memory per record while a partition stays quiet (racing its pending answer would leak)', async () => {
    const gc = forcedGc();
    const quiet: AsyncIterator<number> = { next: () => new Promise(() => {}), return: async () => ({ done: true, value: undefined }) };
    let n = 0;
    const busy: AsyncIterator<number> = { next: async () => ({ done: false, value: n++ }) };
    const stop = new AbortController();
    const merged = mergeTails([{ partition: 0, records: quiet }, { partition: 1, records: busy }], stop.signal);
    const heapAfter = async (records: number): Promise<number> => {
      for (let i = 0; i < records; i++) await merged.next();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const start = await heapAfter(1_000);
    // Racing the quiet tail's answer kept ~500 bytes per record: 100,000 records grew the heap by ~50 MB.
    const grown = (await heapAfter(100_000)) - start;
    await merged.return();
    expect(grown).toBeLessThan(10 << 20);
  });

  it('fails with the error of a tail that fails, and returns the others', async () => {
    const t = new FakeTopic([['a0', 'a1'], ['b0']]);
    t.failTailAt.set(0, 1);
    await expect(new Consumer(t).readAll('t', { follow: true })).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    expect(t.tails.get(1)!.returned).toBe(true);
  });
});

describe('consumer groups', () => {
  it('starts at the group\'s committed offsets, moved into the log\'s range; others start where asked', async () => {
    const t = new FakeTopic([['a0', 'a1', 'a2', 'a3'], ['b0', 'b1'], ['c0', 'c1'], ['d0']], 1);
    // Partition 0 resumes at 2; 1 committed below the log start (1); 2 committed past the end; 3 never.
    t.groups.set('g', new Map([[0, 2], [1, 0], [2, 9]]));
    const read = await new Consumer(t).readAll('t', { group: 'g', from: 'latest' });
    expect(values(read).sort()).toEqual(['0:a2', '0:a3', '1:b1']);
    // Partition 3 started at the latest offset (1): the group now stands there.
    expect(t.commits).toEqual([['g', 1, [[0, 4], [1, 2], [3, 1]]]]);
    expect(t.groups.get('g')).toEqual(new Map([[0, 4], [1, 2], [2, 9], [3, 1]]));
    // Nothing new: the next run reads nothing and commits nothing.
    expect(await new Consumer(t).readAll('t', { group: 'g' })).toEqual([]);
    expect(t.commits).toHaveLength(1);
  });

  it('commits where it started in the partitions it did not reach, so the group\'s next reader does not skip them', async () => {
    const t = new FakeTopic([['a0', 'a1'], ['b0', 'b1']]);
    expect(values(await new Consumer(t).readAll('t', { group: 'g', from: 'earliest', maxRecords: 1 }))).toEqual(['0:a0']);
    expect(t.groups.get('g')).toEqual(new Map([[0, 1], [1, 0]]));
    // Without a commit the next reader would start partition 1 at the latest offset, past b0 and b1.
    expect(values(await new Consumer(t).readAll('t', { group: 'g', from: 'latest' })).sort()).toEqual(['0:a1', '1:b0', '1:b1']);
  });

  it('a reader waiting at the log end commits what it processed once the interval has passed, not only when it stops', async () => {
    const t = new FakeTopic([['a0', 'a1']]);
    const timers: (() => void)[] = [];
    const env: ClientEnv = { ...t.env, setTimer: (fn) => timers.push(fn), clearTimer: () => {} };
    const it = new Consumer(Object.assign(t, { env })).read('t', { group: 'g', follow: true, autoCommitIntervalMs: 1_000 });
    expect(dec((await it.next()).value?.value ?? null)).toBe('a0');
    expect(dec((await it.next()).value?.value ?? null)).toBe('a1');
    const third = it.next(); // a1 is processed; the reader waits for a2
    await new Promise((r) => setImmediate(r));
    expect(t.commits).toHaveLength(0);
    t.nowMs = 1_000;
    for (const fire of timers.splice(0)) fire();
    await new Promise((r) => setImmediate(r));
    expect(t.groups.get('g')).toEqual(new Map([[0, 2]]));
    t.append(0, 'a2');
    expect(dec((await third).value?.value ?? null)).toBe('a2');
    await it.return(undefined);
    expect(t.groups.get('g')).toEqual(new Map([[0, 2]]));
    expect(t.tails.get(0)?.returned).toBe(true);
  });

  it('commits only what was processed: a record the reader broke out on is read again', async () => {
    const t = new FakeTopic([['a0', 'a1', 'a2', 'a3']]);
    for await (const r of new Consumer(t).read('t', { group: 'g' })) if (dec(r.value) === 'a1') break;
    expect(t.groups.get('g')).toEqual(new Map([[0, 1]]));
    expect(values(await new Consumer(t).readAll('t', { group: 'g', maxRecords: 2 }))).toEqual(['0:a1', '0:a2']);
    // maxRecords: the last record handed out counts as processed.
    expect(t.groups.get('g')).toEqual(new Map([[0, 3]]));
    expect(values(await new Consumer(t).readAll('t', { group: 'g', follow: true, maxRecords: 1 }))).toEqual(['0:a3']);
  });

  it('commits while records flow, at most once per interval; a failed periodic commit is reported, not fatal', async () => {
    const t = new FakeTopic([['a0', 'a1', 'a2', 'a3', 'a4']]);
    const errors: unknown[] = [];
    const seen: string[] = [];
    for await (const r of new Consumer(t).read('t', { group: 'g', autoCommitIntervalMs: 1_000, onCommitError: (e) => errors.push(e) })) {
      seen.push(dec(r.value));
      t.nowMs += 600;
      t.failCommits = seen.length === 2;
    }
    expect(seen).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(errors).toHaveLength(1);
    // Due after a1 (at 1,200 ms: failed, and a failed commit also waits the interval out), then after a3
    // (2,400 ms), then at the end.
    expect(t.commits.map(([, , o]) => o)).toEqual([[[0, 4]], [[0, 5]]]);
  });

  it('a final commit that fails is the read\'s error, unless the read failed first', async () => {
    const t = new FakeTopic([['a0']]);
    t.failCommits = true;
    await expect(new Consumer(t).readAll('t', { group: 'g' })).rejects.toMatchObject({ code: 'REQUEST_TIMED_OUT' });
    const u = new FakeTopic([['a0', 'a1']]);
    u.failCommits = true;
    u.failTailAt.set(0, 1);
    await expect(new Consumer(u).readAll('t', { group: 'g', follow: true })).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
  });

  it('an abort ends a read at once: one aborted before it starts asks the cluster nothing, one read to the end stops mid-round', async () => {
    const t = new FakeTopic([['a0', 'a1', 'a2', 'a3']], 0, 4);
    const stop = new AbortController();
    stop.abort();
    expect(await new Consumer(t).readAll('t', { group: 'g', follow: true, signal: stop.signal })).toEqual([]);
    expect([t.fetches.length, t.tails.size, t.commits.length]).toEqual([0, 0, 0]);
    const mid = new AbortController();
    const seen: string[] = [];
    for await (const r of new Consumer(t).read('t', { group: 'g', signal: mid.signal })) {
      seen.push(dec(r.value));
      mid.abort();
    }
    // The fetch answered four records; the read stopped after the first, and committed only it.
    expect(seen).toEqual(['a0']);
    expect(t.groups.get('g')).toEqual(new Map([[0, 1]]));
  });

  it('refuses an offset as the start of a group read', async () => {
    const t = new FakeTopic([['a0']]);
    await expect(new Consumer(t).readAll('t', { group: 'g', from: 3 })).rejects.toMatchObject({ code: 'INVALID_REQUEST', retriable: false });
  });
});

describe('consumer group members (following every partition as a group)', () => {
  /** A FakeTopic whose timers fire when the test moves time on, and whose request ids differ. */
  function timedTopic(logs: string[][]): { t: FakeTopic; advance: (ms: number) => Promise<void> } {
    const t = new FakeTopic(logs);
    let timers: { atMs: number; fn: () => void; id: number }[] = [];
    let ids = 0;
    const env: ClientEnv = {
      now: () => t.nowMs,
      setTimer: (fn, delayMs) => { timers.push({ atMs: t.nowMs + delayMs, fn, id: ++ids }); return ids; },
      clearTimer: (id) => { timers = timers.filter((x) => x.id !== id); },
      random: () => 0,
      requestId: () => `m${++ids}`,
    };
    Object.assign(t, { env });
    const settle = async (): Promise<void> => { for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r)); };
    const advance = async (ms: number): Promise<void> => {
      const end = t.nowMs + ms;
      for (;;) {
        await settle();
        const due = timers.filter((x) => x.atMs <= end).sort((a, b) => a.atMs - b.atMs)[0];
        if (due === undefined) break;
        timers = timers.filter((x) => x !== due);
        t.nowMs = Math.max(t.nowMs, due.atMs);
        due.fn();
      }
      t.nowMs = end;
      await settle();
    };
    return { t, advance };
  }

  /** Reads `it` into `into` until it ends; resolves then. */
  function pull(it: AsyncGenerator<{ partition: number; value: Uint8Array | null }>, into: string[]): Promise<void> {
    return it.next().then((r) => {
      if (r.done === true) return undefined;
      into.push(`${r.value.partition}:${dec(r.value.value)}`);
      return pull(it, into);
    });
  }

  it('a second member gets half the partitions once the first let go of them, from the first one\'s commits', async () => {
    const { t, advance } = timedTopic([['a0', 'a1'], ['b0', 'b1'], ['c0', 'c1'], ['d0', 'd1']]);
    const stopFirst = new AbortController();
    const seen: string[] = [];
    const first = pull(new Consumer(t).read('t', { group: 'g', follow: true, from: 'earliest', autoCommitIntervalMs: 0, signal: stopFirst.signal }), seen);
    await advance(0);
    expect([...seen].sort()).toEqual(['0:a0', '0:a1', '1:b0', '1:b1', '2:c0', '2:c1', '3:d0', '3:d1']);
    const stopSecond = new AbortController();
    const seen2: string[] = [];
    const second = pull(new Consumer(t).read('t', { group: 'g', follow: true, from: 'earliest', autoCommitIntervalMs: 0, signal: stopSecond.signal }), seen2);
    await advance(0);
    // Joined, but partitions 2 and 3 are still the first member's.
    expect(t.members.describe('g').map((m) => m.partitions)).toEqual([[0, 1, 2, 3], []]);
    // The first member's next heartbeat takes 2 and 3 away: it commits them (as their owner) and lets go.
    await advance(1_000);
    expect(t.commits.flatMap(([, , o]) => o).filter(([p]) => p >= 2).sort()).toEqual([[2, 2], [3, 2]]);
    await advance(500);
    expect(t.members.describe('g').map((m) => m.partitions)).toEqual([[0, 1], [2, 3]]);
    // The second member starts at the first one's commits: nothing read twice; new records go to their owner only.
    t.append(2, 'c2');
    t.append(0, 'a2');
    await advance(0);
    expect(seen2).toEqual(['2:c2']);
    expect(seen.slice(8)).toEqual(['0:a2']);
    // The second member stops: it commits and leaves, and the first takes 2 and 3 back at its next heartbeat.
    stopSecond.abort();
    await advance(0);
    await second;
    expect(t.members.describe('g').map((m) => m.partitions)).toEqual([[0, 1]]);
    await advance(1_000);
    t.append(3, 'd2');
    await advance(0);
    expect(seen.slice(9)).toEqual(['3:d2']);
    stopFirst.abort();
    await advance(0);
    await first;
    expect(t.members.count('g')).toBe(0);
    expect(t.groups.get('g')).toEqual(new Map([[0, 3], [1, 2], [2, 3], [3, 3]]));
  });

  it('a member told it is unknown drops everything and joins again, owning nothing, at the group\'s commits', async () => {
    const { t, advance } = timedTopic([['a0'], ['b0']]);
    const stop = new AbortController();
    const seen: string[] = [];
    const reading = pull(new Consumer(t).read('t', { group: 'g', follow: true, from: 'earliest', autoCommitIntervalMs: 0, signal: stop.signal }), seen);
    await advance(0);
    const [id] = t.members.describe('g').map((m) => m.memberId);
    t.members.leave('g', id as string); // its session lapsed at the coordinator
    await advance(1_000);
    // UNKNOWN_MEMBER: it let go of both partitions (without committing: it would be refused), and joined again.
    expect(t.heartbeats.slice(-2).map((h) => h.owned)).toEqual([[0, 1], []]);
    expect(t.members.describe('g').map((m) => m.partitions)).toEqual([[0, 1]]);
    t.append(1, 'b1');
    await advance(0);
    // The group had committed nothing: both partitions are read again from the start (at least once).
    expect(seen).toEqual(['0:a0', '1:b0', '0:a0', '1:b0', '1:b1']);
    stop.abort();
    await advance(0);
    await reading;
  });
});
