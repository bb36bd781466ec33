// Reading a topic, for `keel consume` and for tests: one partition or all of them, from the earliest
// offset, the latest, a given one, or where a consumer group left off, until `maxRecords` records or -
// unless following - until every partition has been read up to the high watermark it had when reading
// began. Read to the end, partitions are fetched side by side (one fetch each per round); followed, each
// partition is tailed on its own Subscribe stream and records come as they commit, partitions
// interleaved (following all of them, partitions added to the topic meanwhile are found and read too).
// One partition's records always come in offset order. As a group, the reader commits what it processed
// (group-progress.ts); following every partition as a group, it is a member of the group and reads only
// the partitions the group gives it (member-reader.ts).
import { sleep, type ClientEnv, type TimerHandle } from './env.ts';
import { invalidRequest, KeelError } from './errors.ts';
import { GroupMembership, type MembershipHost } from './group-membership.ts';
import { GroupProgress, type GroupHost } from './group-progress.ts';
import { MemberReader } from './member-reader.ts';
import { mergeTails, type Arrival, type Tail } from './merge-tails.ts';
import type { ConsumedRecord, FetchResult } from './records.ts';
import type { SubscribeOptions } from './subscription.ts';
import type { ListOffsetsResult, OffsetSpec, TopicInfo } from './wire.ts';

/** What a consumer needs from its client (KeelClient has it). */
export interface ConsumerHost extends GroupHost, MembershipHost {
  listOffsets(topic: string, partition: number, spec: OffsetSpec): Promise<ListOffsetsResult>;
  describeTopic(name: string): Promise<TopicInfo>;
  fetch(topic: string, partition: number, offset: number, options?: { readonly maxBytes?: number; readonly maxWaitMs?: number }): Promise<FetchResult>;
  subscribe(topic: string, partition: number, offset: number, options?: SubscribeOptions): AsyncIterator<ConsumedRecord>;
}

export interface ReadOptions {
  /** Default: every partition of the topic. */
  readonly partitions?: readonly number[];
  /**
   * Default 'earliest'. A number is an offset, used for every partition read. With a group: where the
   * partitions the group never committed start (an offset is refused there).
   */
  readonly from?: 'earliest' | 'latest' | number;
  /**
   * For an offset `from` outside a partition's log (before its start, or past its end): start at the log's
   * nearest end instead, and say so here (as `keel group reset` and Kafka's auto.offset.reset do). Without
   * it the offset is used as given: the server refuses it with OFFSET_OUT_OF_RANGE (a read to the end
   * from past the end reads nothing).
   */
  readonly onOffsetClamped?: (partition: number, asked: number, startedAt: number) => void;
  /** Stop after this many records (default: no limit). */
  readonly maxRecords?: number;
  /** Keep waiting for new records instead of stopping at the high watermark (default false). */
  readonly follow?: boolean;
  /** Per fetch, or per batch a followed partition's stream sends (default 1 MiB). */
  readonly fetchBytesMax?: number;
  /**
   * Read as this consumer group: start at its committed offsets and commit what was processed. Following
   * every partition, the reader joins the group and reads only its share of the partitions.
   */
  readonly group?: string;
  /**
   * With a group: commit progress this often while records flow (default 5,000, Kafka's
   * auto.commit.interval.ms; 0 = only when reading ends). Reading always ends with a commit.
   */
  readonly autoCommitIntervalMs?: number;
  /** With a group: told of a failed commit while reading (the next commit covers it). Default: ignored. */
  readonly onCommitError?: (e: unknown) => void;
  /** Ends the read when aborted, as break does (a follow otherwise waits for records forever). */
  readonly signal?: AbortSignal;
  /**
   * Ends the read once no record has come for this long, counted from when it found its start positions
   * (Kafka's console consumer --timeout-ms).
   */
  readonly idleTimeoutMs?: number;
  /**
   * Following every partition: how often to look for partitions added to the topic since (default 30,000
   * ms). They are read from their start (with a group, from its committed offset), so none of their
   * records is missed.
   */
  readonly newPartitionsCheckMs?: number;
}

export interface TopicRecord extends ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
}

interface Cursor {
  readonly partition: number;
  offset: number;
  /** Not following: read up to (excluding) this offset, the high watermark when reading began. */
  readonly end: number;
  /** Fetches in a row that returned nothing although offset < end. */
  emptyFetches: number;
}

/**
 * Empty answers below the known high watermark tolerated in a row (a new leader serves reads only once
 * its commit index has caught up; each such fetch long-polls CATCH_UP_WAIT_MS).
 */
const EMPTY_FETCHES_MAX = 40;
const CATCH_UP_WAIT_MS = 250;
const FETCH_BYTES_DEFAULT = 1 << 20;
const AUTO_COMMIT_INTERVAL_MS_DEFAULT = 5_000;
const NEW_PARTITIONS_CHECK_MS_DEFAULT = 30_000;
/** What nextArrival's commit timer resolves to. */
const COMMIT_DUE = Symbol('commit due');

export class Consumer {
  constructor(private readonly host: ConsumerHost) {}

  /** The records, as an async iterable (stop early with break). */
  async *read(topic: string, options: ReadOptions = {}): AsyncGenerator<TopicRecord, void, undefined> {
    let remaining = options.maxRecords ?? Number.POSITIVE_INFINITY;
    if (!(remaining >= 0)) throw invalidRequest(`maxRecords must be >= 0, got ${options.maxRecords}`);
    if (remaining === 0 || options.signal?.aborted === true) return;
    const asMember = options.group !== undefined && options.follow === true && options.partitions === undefined;
    const { cursors, progress, member } = asMember ? await this.join(topic, options) : { ...(await this.start(topic, options)), member: null };
    let failure: unknown;
    const idleEnd = options.idleTimeoutMs === undefined ? null : new IdleEnd(this.host.env, options.idleTimeoutMs, options.signal);
    const reading = idleEnd === null ? options : { ...options, signal: idleEnd.signal };
    const aborted = (): boolean => reading.signal?.aborted === true;
    const arrivals = member !== null ? member.reader.arrivals(reading.signal) : options.follow === true ? this.tail(topic, cursors, reading, progress) : this.toEnd(topic, cursors, reading);
    const idle = progress === null ? null : new IdleCommits(this.host.env, progress);
    try {
      for (;;) {
        const next = await (idle === null ? arrivals.next() : idle.next(arrivals.next()));
        if (next.done === true) return;
        const a = next.value;
        idleEnd?.restart();
        yield { ...a.record, topic, partition: a.partition };
        // Asked for the next record: this one is processed (unless its partition went to another member meanwhile).
        if (member?.reader.holds(a.partition) !== false) progress?.processed(a.partition, a.record.offset + 1);
        if (--remaining <= 0 || aborted()) return;
        if (progress?.due() === true) await progress.commitPeriodically();
      }
    } catch (e) {
      failure = e;
      throw e;
    } finally {
      idle?.stop();
      idleEnd?.stop();
      await arrivals.return(undefined);
      // A failed final commit is the read's error, unless the read already failed with its own.
      try {
        if (progress !== null) await progress.commit().catch((e: unknown) => { if (failure === undefined) throw e; });
      } finally {
        // Committed: its partitions go to the other members at once, not after its session lapses.
        await member?.membership.leave();
      }
    }
  }

  /** Joins `options.group` as a member reading the partitions the group gives it (member-reader.ts). */
  private async join(topic: string, options: ReadOptions): Promise<{ cursors: Cursor[]; progress: GroupProgress; member: { reader: MemberReader; membership: GroupMembership } }> {
    const group = options.group as string;
    const from = options.from ?? 'earliest';
    if (typeof from === 'number') throw invalidRequest('a consumer group starts at its committed offsets: from cannot be an offset');
    const info = await this.host.describeTopic(topic);
    const onCommitError = options.onCommitError ?? (() => {});
    const membership = new GroupMembership(this.host, group, topic, info.id, this.host.env.requestId());
    const progress = await GroupProgress.start(this.host, group, topic, info.id, { intervalMs: options.autoCommitIntervalMs ?? AUTO_COMMIT_INTERVAL_MS_DEFAULT, onCommitError, memberId: membership.memberId });
    const reader = new MemberReader(this.host, topic, membership, progress, { from, maxBytes: options.fetchBytesMax ?? FETCH_BYTES_DEFAULT, onCommitError });
    try {
      await reader.join();
    } catch (e) {
      // It may have joined before failing (its first share's offsets could not be read): leave, so the
      // group does not wait a session for it.
      await membership.leave();
      throw e;
    }
    return { cursors: [], progress, member: { reader, membership } };
  }

  /** Every record read() yields, collected (give maxRecords or leave follow off, or it never ends). */
  async readAll(topic: string, options: ReadOptions = {}): Promise<TopicRecord[]> {
    const out: TopicRecord[] = [];
    for await (const r of this.read(topic, options)) out.push(r);
    return out;
  }

  /** Every partition tailed on its own stream, merged; reading them all, partitions added later too. */
  private tail(topic: string, cursors: readonly Cursor[], options: ReadOptions, progress: GroupProgress | null): AsyncGenerator<Arrival<ConsumedRecord>> {
    const maxBytes = options.fetchBytesMax ?? FETCH_BYTES_DEFAULT;
    const open = (partition: number, offset: number): Tail<ConsumedRecord> => ({ partition, records: this.host.subscribe(topic, partition, offset, { maxBytes }) });
    const discover = options.partitions === undefined ? this.addedPartitions(topic, cursors, options, progress, open) : undefined;
    return mergeTails(cursors.map((c) => open(c.partition, c.offset)), options.signal, discover);
  }

  /** Each call waits `newPartitionsCheckMs`, then opens tails on the partitions the topic gained since reading began. */
  private addedPartitions(topic: string, cursors: readonly Cursor[], options: ReadOptions, progress: GroupProgress | null, open: (partition: number, offset: number) => Tail<ConsumedRecord>): (ended: AbortSignal) => Promise<Tail<ConsumedRecord>[]> {
    const known = new Set(cursors.map((c) => c.partition));
    const everyMs = options.newPartitionsCheckMs ?? NEW_PARTITIONS_CHECK_MS_DEFAULT;
    return async (ended) => {
      await sleep(this.host.env, everyMs, ended);
      if (ended.aborted) return [];
      const info = await this.host.describeTopic(topic);
      const tails: Tail<ConsumedRecord>[] = [];
      for (const partition of info.partitions.map((p) => p.partition).filter((p) => !known.has(p)).sort((a, b) => a - b)) {
        const o = await this.host.listOffsets(topic, partition, 'earliest');
        const offset = progress?.place(partition, o.logStartOffset, o.highWatermark) ?? o.offset;
        progress?.processed(partition, offset);
        known.add(partition);
        tails.push(open(partition, offset));
      }
      return tails;
    };
  }

  /** Fetch rounds over the partitions until each reached the high watermark it had at the start. */
  private async *toEnd(topic: string, cursors: readonly Cursor[], options: ReadOptions): AsyncGenerator<Arrival<ConsumedRecord>> {
    let active = cursors.filter((c) => c.offset < c.end);
    while (active.length > 0 && options.signal?.aborted !== true) {
      const answers = await Promise.all(active.map((c) => this.host.fetch(topic, c.partition, c.offset, {
        maxBytes: options.fetchBytesMax ?? FETCH_BYTES_DEFAULT,
        maxWaitMs: c.emptyFetches > 0 ? CATCH_UP_WAIT_MS : 0,
      })));
      for (let i = 0; i < active.length; i++) {
        const c = active[i] as Cursor;
        let got = 0;
        for (const r of (answers[i] as FetchResult).records) {
          if (r.offset < c.offset) continue;
          if (r.offset >= c.end) break;
          yield { partition: c.partition, record: r };
          c.offset = r.offset + 1;
          got++;
        }
        if (got > 0) c.emptyFetches = 0;
        else if (c.offset < c.end && ++c.emptyFetches > EMPTY_FETCHES_MAX) {
          throw new KeelError({ code: 'REQUEST_TIMED_OUT', message: `${topic}/${c.partition}: no records at offset ${c.offset} although the high watermark was ${c.end}`, retriable: true });
        }
      }
      active = active.filter((c) => c.offset < c.end);
    }
  }

  private async start(topic: string, options: ReadOptions): Promise<{ cursors: Cursor[]; progress: GroupProgress | null }> {
    const info = await this.host.describeTopic(topic);
    const all = info.partitions.map((p) => p.partition).sort((a, b) => a - b);
    const chosen = options.partitions ?? all;
    for (const p of chosen) {
      if (!all.includes(p)) throw new KeelError({ code: 'UNKNOWN_TOPIC_OR_PARTITION', message: `topic ${topic} has ${all.length} partition${all.length === 1 ? '' : 's'}; there is no partition ${p}`, retriable: false });
    }
    const from = options.from ?? 'earliest';
    if (typeof from === 'number' && (!Number.isSafeInteger(from) || from < 0)) throw invalidRequest(`an offset must be a non-negative integer, got ${from}`);
    if (options.group !== undefined && typeof from === 'number') throw invalidRequest('a consumer group starts at its committed offsets: from cannot be an offset');
    const progress = options.group === undefined ? null : await GroupProgress.start(this.host, options.group, topic, info.id, {
      intervalMs: options.autoCommitIntervalMs ?? AUTO_COMMIT_INTERVAL_MS_DEFAULT,
      onCommitError: options.onCommitError ?? (() => {}),
    });
    const cursors = await Promise.all(chosen.map(async (partition): Promise<Cursor> => {
      const o = await this.host.listOffsets(topic, partition, typeof from === 'number' ? 'latest' : from);
      const offset = progress?.place(partition, o.logStartOffset, o.highWatermark) ?? (typeof from === 'number' ? startAt(partition, from, o, options) : o.offset);
      // The group stands where this reader starts, read or not (as Kafka commits a reset position): a
      // partition it never committed and starts from the beginning is not skipped by the group's next reader.
      progress?.processed(partition, offset);
      return { partition, offset, end: o.highWatermark, emptyFetches: 0 };
    }));
    return { cursors, progress };
  }
}

/** Where a read from offset `asked` starts: there, or at the log's nearest end if the caller allows it. */
function startAt(partition: number, asked: number, log: ListOffsetsResult, options: ReadOptions): number {
  const inLog = Math.min(Math.max(asked, log.logStartOffset), log.highWatermark);
  if (inLog === asked || options.onOffsetClamped === undefined) return asked;
  options.onOffsetClamped(partition, asked, inLog);
  return inLog;
}

/** A signal that aborts when `outer` does, or once `ms` pass without a restart(). */
class IdleEnd {
  private readonly controller = new AbortController();
  readonly signal: AbortSignal;
  private timer: TimerHandle;

  constructor(private readonly env: ClientEnv, private readonly ms: number, outer: AbortSignal | undefined) {
    this.signal = outer === undefined ? this.controller.signal : AbortSignal.any([outer, this.controller.signal]);
    this.timer = env.setTimer(() => this.controller.abort(), ms);
  }

  restart(): void {
    this.env.clearTimer(this.timer);
    this.timer = this.env.setTimer(() => this.controller.abort(), this.ms);
  }

  stop(): void {
    this.env.clearTimer(this.timer);
  }
}

/**
 * A group reader's commits while it waits for records: progress made before comes due for its periodic
 * commit and is committed then, so a reader that sits at the log end has its last records committed, not
 * only at exit. One timer per interval, shared by every wait (records that flow never arm one each).
 */
class IdleCommits {
  private due: Promise<typeof COMMIT_DUE> | null = null;
  private timer: TimerHandle | null = null;

  constructor(private readonly env: ClientEnv, private readonly progress: GroupProgress) {}

  /** `arrival`, committing due progress while it is awaited. */
  async next<T>(arrival: Promise<T>): Promise<T> {
    for (;;) {
      if (this.due === null) {
        const waitMs = this.progress.msUntilDue();
        if (waitMs === undefined) return arrival;
        this.due = new Promise((resolve) => { this.timer = this.env.setTimer(() => resolve(COMMIT_DUE), waitMs); });
      }
      const first = await Promise.race([arrival, this.due]);
      if (first !== COMMIT_DUE) return first;
      this.due = null;
      this.timer = null;
      // Records that flowed meanwhile may have been committed and restarted the interval: then wait again.
      if (this.progress.msUntilDue() === 0) await this.progress.commitPeriodically();
    }
  }

  stop(): void {
    if (this.timer !== null) this.env.clearTimer(this.timer);
  }
}
