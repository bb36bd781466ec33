// Committed consumer-group offsets never go back (DESIGN.md §6). Once a commit was acknowledged, every
// answer to a request issued after that acknowledgement (a read of the group's offsets, or another
// commit's answer) must show at least the acknowledged offset: a lower one means a commit was lost or
// undone (rolled back with a leader change, or overwritten by a delayed older commit).
//   offsets-went-back   a read (of a topic's offsets or of the whole group) or a commit answer shows
//                       less than an earlier acknowledged commit
// "After" is by the order the workload saw things in, not by simulated time: a read sent in the very
// callback that saw the acknowledgement (same millisecond) must see it too. The data topics are never
// deleted, so offsets dropped with a topic do not occur here.
//
// Offsets go back on purpose only through an operator's reset (set exactly) or a group's deletion
// (forgotten): after an acknowledged reset the floor is the reset's offset, raised again by commits
// acknowledged after it. A reset or deletion whose outcome is unknown may land at any later moment, so
// its group is not checked until the workload has it acknowledged (it retries with the same request id,
// which the controller applies once).

import type { GroupTopicOffsets, PartitionOffset } from '../../controller/group-offsets.ts';
import { getOrCreate } from '../maps.ts';

/** What the checker reports through: the partition checker's fail(). */
type Fail = (checker: string, message: string) => void;

interface Ack {
  /** How many acknowledgements (of any commit, reset or deletion) came before this one. */
  readonly seq: number;
  /** -1: the group's offset was deleted. */
  readonly offset: number;
  /** A reset or deletion: the stored offset became exactly this (a commit only raises it). */
  readonly exact: boolean;
}

/** What a request was issued after: the acknowledgements seen so far (from issue()). */
export type IssuedAfter = number;

const newAckList = (): Ack[] => [];
const keyOf = (group: string, topic: string, partition: number): string => `${group}/${topic}/${partition}`;

export class GroupOffsetsChecker {
  /** "group/topic/partition" → acknowledged commits and resets, in acknowledgement order (so by time). */
  private readonly acked = new Map<string, Ack[]>();
  /** Groups with a reset or deletion in flight: its outcome, and so their floor, is unknown. */
  private readonly unsettled = new Set<string>();
  /** Acknowledged commits, resets and deletions (what issue() stamps requests with). */
  private acks = 0;
  commits = 0;
  resets = 0;
  deletions = 0;
  reads = 0;

  constructor(private readonly fail: Fail) {}

  /** Call when sending a commit or a read; hand the result to committed() or read() with its answer. */
  issue(): IssuedAfter {
    return this.acks;
  }

  /** A commit sent at `issued` was acknowledged, answering the stored offsets of its partitions. */
  committed(group: string, topic: string, issued: IssuedAfter, offsets: readonly PartitionOffset[]): void {
    this.commits++;
    const seq = this.acks++;
    for (const { partition, offset } of offsets) {
      const key = keyOf(group, topic, partition);
      this.check(group, key, offset, issued, 'a commit answered');
      getOrCreate(this.acked, key, newAckList).push({ seq, offset, exact: false });
    }
  }

  /** A reset or deletion of `group` was sent: until it is acknowledged, the group's floor is unknown. */
  unsettle(group: string): void {
    this.unsettled.add(group);
  }

  /** A reset of `group` on `topic` to exactly `offsets` was acknowledged. */
  reset(group: string, topic: string, offsets: readonly PartitionOffset[]): void {
    this.resets++;
    const seq = this.acks++;
    for (const { partition, offset } of offsets) getOrCreate(this.acked, keyOf(group, topic, partition), newAckList).push({ seq, offset, exact: true });
    this.unsettled.delete(group);
  }

  /** The deletion of `group` was acknowledged: it has no offsets until it commits again. */
  deleted(group: string): void {
    this.deletions++;
    const seq = this.acks++;
    for (const [key, list] of this.acked) if (key.startsWith(`${group}/`)) list.push({ seq, offset: -1, exact: true });
    this.unsettled.delete(group);
  }

  /** A read of the group's committed offsets of `topic`, sent at `issued`, answered these. */
  read(group: string, topic: string, issued: IssuedAfter, offsets: readonly PartitionOffset[]): void {
    this.checkRead(group, topic, issued, [{ topic, offsets }], 'a read returned');
  }

  /** A description of the whole group (every topic it committed), sent at `issued`, answered these. */
  readGroup(group: string, issued: IssuedAfter, topics: readonly GroupTopicOffsets[]): void {
    this.checkRead(group, undefined, issued, topics, 'a group description returned');
  }

  /** Checks every acknowledged key of the group (of `onlyTopic`, if given) against what a read returned. */
  private checkRead(group: string, onlyTopic: string | undefined, issued: IssuedAfter, topics: readonly GroupTopicOffsets[], what: string): void {
    this.reads++;
    const prefix = onlyTopic === undefined ? `${group}/` : `${group}/${onlyTopic}/`;
    const got = new Map<string, number>();
    for (const t of topics) for (const o of t.offsets) got.set(keyOf(group, t.topic, o.partition), o.offset);
    for (const key of this.acked.keys()) if (key.startsWith(prefix)) this.check(group, key, got.get(key) ?? -1, issued, what);
  }

  private check(group: string, key: string, observed: number, issued: IssuedAfter, what: string): void {
    if (this.unsettled.has(group)) return;
    let floor = -1;
    let by = 'a commit of';
    for (const a of this.acked.get(key) ?? []) {
      if (a.seq >= issued) break;
      if (a.exact || a.offset > floor) {
        floor = a.offset;
        by = a.exact ? 'a reset to' : 'a commit of';
      }
    }
    if (observed < floor) this.fail('offsets-went-back', `${key}: ${what} ${observed < 0 ? 'no offset' : `offset ${observed}`}, but ${by} ${floor} was acknowledged before it was asked`);
  }
}
