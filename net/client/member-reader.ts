// Following a topic as a member of a consumer group: the reader tails only the partitions the group gives
// it, and follows the group's changes as its heartbeats learn them. A partition it gains is read from the
// group's committed offset (read again at that moment: its previous owner committed before letting go),
// or where the reader was asked to start if the group never committed it. A partition it loses is
// stopped and its progress committed before the next heartbeat reports it gone, so its next owner
// starts after what this reader processed (at least once: a record handed out but not yet processed
// is handed out again there).
import type { ConsumerHost } from './consumer.ts';
import type { GroupMembership } from './group-membership.ts';
import type { GroupProgress } from './group-progress.ts';
import { mergeTails, type Arrival, type Tail } from './merge-tails.ts';
import type { ConsumedRecord } from './records.ts';

export interface MemberReaderOptions {
  /** Where partitions the group never committed start. */
  readonly from: 'earliest' | 'latest';
  /** Per batch a partition's stream sends. */
  readonly maxBytes: number;
  /** Told of a failed commit of a partition being let go. */
  readonly onCommitError: (e: unknown) => void;
}

export class MemberReader {
  /** Open tails by partition. */
  private readonly tails = new Map<number, Tail<ConsumedRecord>>();
  /** The next offset to hand out, by partition: older records (a replaced tail's leftovers) are dropped. */
  private readonly nextOffset = new Map<number, number>();

  constructor(
    private readonly host: ConsumerHost,
    private readonly topic: string,
    private readonly membership: GroupMembership,
    private readonly progress: GroupProgress,
    private readonly options: MemberReaderOptions,
  ) {}

  /** Joins the group (failing as the first heartbeat fails) and opens the tails of its first share. */
  async join(): Promise<void> {
    const first = await this.membership.beat();
    await this.take(first.gained);
  }

  /** Records of the partitions this member holds, as they come; following the group's changes until `signal` aborts. */
  async *arrivals(signal: AbortSignal | undefined): AsyncGenerator<Arrival<ConsumedRecord>> {
    const merged = mergeTails([...this.tails.values()], signal, (ended) => this.follow(ended));
    try {
      for await (const a of merged) {
        const next = this.nextOffset.get(a.partition);
        if (!this.membership.holds(a.partition) || next === undefined || a.record.offset < next) continue;
        this.nextOffset.set(a.partition, a.record.offset + 1);
        yield a;
      }
    } finally {
      await merged.return(undefined);
    }
  }

  /** Whether a record handed out is still this member's to process (it may have been let go meanwhile). */
  holds(partition: number): boolean {
    return this.membership.holds(partition);
  }

  /** The next heartbeat's changes: lost partitions let go, gained ones' tails returned to join the merge. */
  private async follow(ended: AbortSignal): Promise<Tail<ConsumedRecord>[]> {
    const change = await this.membership.next(ended);
    for (const p of change.lost) await this.letGo(p, change.removed !== true);
    if (ended.aborted) return [];
    return this.take(change.gained);
  }

  /** Stops reading `partition` and commits its progress (unless the member was removed: it would be refused). */
  private async letGo(partition: number, commit: boolean): Promise<void> {
    const tail = this.tails.get(partition);
    this.tails.delete(partition);
    this.nextOffset.delete(partition);
    await tail?.records.return?.();
    if (commit) await this.progress.commit([partition]).catch(this.options.onCommitError);
    this.progress.forget(partition);
    this.membership.release(partition);
  }

  /** Opens tails on gained partitions, each at the group's committed offset, read again now. */
  private async take(gained: readonly number[]): Promise<Tail<ConsumedRecord>[]> {
    if (gained.length === 0) return [];
    await this.progress.refresh(gained);
    const opened: Tail<ConsumedRecord>[] = [];
    for (const partition of gained) {
      // A partition whose log cannot be found now is not taken: the next heartbeat reports it not owned,
      // and the group gives it again.
      const o = await this.host.listOffsets(this.topic, partition, this.options.from).catch(() => undefined);
      if (o === undefined) continue;
      const offset = this.progress.place(partition, o.logStartOffset, o.highWatermark) ?? o.offset;
      // The group stands where this member starts (as a reader outside membership does).
      this.progress.processed(partition, offset);
      this.nextOffset.set(partition, offset);
      this.membership.hold(partition);
      const tail = { partition, records: this.host.subscribe(this.topic, partition, offset, { maxBytes: this.options.maxBytes }) };
      this.tails.set(partition, tail);
      opened.push(tail);
    }
    return opened;
  }
}
