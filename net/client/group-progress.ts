// A consumer group's place in one topic, as one reader keeps it: where each partition starts (the group's
// committed offset, moved into the log's range if retention passed it, as Kafka's auto.offset.reset does;
// partitions the group never committed start where the reader asked), what the reader has processed since,
// and commits of that progress - at most every `intervalMs` while records flow, and once at the end. A record counts as
// processed once the reader asks for the next one, so delivery is at least once: a record handed out just
// before a crash is handed out again to the group's next reader.
import type { ClientEnv } from './env.ts';

/** What group progress needs from its client (KeelClient has it). */
export interface GroupHost {
  readonly env: ClientEnv;
  commitOffsets(group: string, topic: string, offsets: ReadonlyMap<number, number>, options?: { readonly topicId?: number; readonly memberId?: string }): Promise<Map<number, number>>;
  fetchOffsets(group: string, topic: string): Promise<Map<number, number>>;
}

export interface GroupProgressOptions {
  /** Commit while reading at most this often (0 = only at the end). */
  readonly intervalMs: number;
  /** Told of a failed commit while reading. */
  readonly onCommitError: (e: unknown) => void;
  /** The reader's member id, when it reads as a member of the group (its commits carry it). */
  readonly memberId?: string;
}

export class GroupProgress {
  /** Per partition: the next offset to read, as processed so far. */
  private readonly position = new Map<number, number>();
  private lastCommitMs: number;

  private constructor(
    private readonly host: GroupHost,
    readonly group: string,
    private readonly topic: string,
    /** Commits name the topic's id: a commit after the topic was deleted fails instead of landing on a new one. */
    private readonly topicId: number,
    /** Per partition: the offset the group has committed, as far as this reader knows. */
    private readonly committed: Map<number, number>,
    private readonly options: GroupProgressOptions,
  ) {
    this.lastCommitMs = host.env.now();
  }

  /** The group's progress in the topic (`topicId`: the topic's id as read). */
  static async start(host: GroupHost, group: string, topic: string, topicId: number, options: GroupProgressOptions): Promise<GroupProgress> {
    return new GroupProgress(host, group, topic, topicId, await host.fetchOffsets(group, topic), options);
  }

  /**
   * Where the group reads `partition` next: its committed offset moved into the log's range
   * [logStartOffset, highWatermark], or undefined if the group never committed the partition.
   */
  place(partition: number, logStartOffset: number, highWatermark: number): number | undefined {
    const at = this.committed.get(partition);
    return at === undefined ? undefined : Math.min(Math.max(at, logStartOffset), highWatermark);
  }

  /** The reader is done with the records of `partition` before `nextOffset`. */
  processed(partition: number, nextOffset: number): void {
    this.position.set(partition, nextOffset);
  }

  /** Whether the periodic commit is due (asked once per record, so it makes no promise). */
  due(): boolean {
    const { intervalMs } = this.options;
    return intervalMs > 0 && this.host.env.now() - this.lastCommitMs >= intervalMs;
  }

  /**
   * How long until a periodic commit of progress not yet committed is due (0: now), or undefined if
   * there is none or periodic commits are off: a reader waiting for records commits what it already did.
   */
  msUntilDue(): number | undefined {
    const { intervalMs } = this.options;
    if (intervalMs <= 0 || !this.anyMoved()) return undefined;
    return Math.max(0, this.lastCommitMs + intervalMs - this.host.env.now());
  }

  /** The periodic commit: a failure goes to onCommitError (the next commit covers it). */
  async commitPeriodically(): Promise<void> {
    await this.commit().catch(this.options.onCommitError);
  }

  /** Commits every partition whose position moved past the group's committed offset (or only `only`'s). */
  async commit(only?: readonly number[]): Promise<void> {
    if (only === undefined) this.lastCommitMs = this.host.env.now();
    const moved = this.moved();
    if (only !== undefined) for (const p of [...moved.keys()]) if (!only.includes(p)) moved.delete(p);
    if (moved.size === 0) return;
    const member = this.options.memberId === undefined ? {} : { memberId: this.options.memberId };
    const stored = await this.host.commitOffsets(this.group, this.topic, moved, { topicId: this.topicId, ...member });
    for (const [partition, offset] of moved) this.committed.set(partition, stored.get(partition) ?? offset);
  }

  /** The reader no longer reads `partition` (it went to another member): nothing of it is committed again. */
  forget(partition: number): void {
    this.position.delete(partition);
    this.committed.delete(partition);
  }

  /** Reads the group's committed offsets again, for partitions the reader takes over from another member. */
  async refresh(partitions: readonly number[]): Promise<void> {
    const now = await this.host.fetchOffsets(this.group, this.topic);
    for (const p of partitions) {
      const at = now.get(p);
      if (at === undefined) this.committed.delete(p);
      else this.committed.set(p, at);
    }
  }

  private anyMoved(): boolean {
    for (const [partition, offset] of this.position) if (offset > (this.committed.get(partition) ?? -1)) return true;
    return false;
  }

  /** Partitions whose position is past the group's committed offset, with the position. */
  private moved(): Map<number, number> {
    const moved = new Map<number, number>();
    for (const [partition, offset] of this.position) if (offset > (this.committed.get(partition) ?? -1)) moved.set(partition, offset);
    return moved;
  }
}
