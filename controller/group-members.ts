// Consumer-group membership, kept in the metadata image: which consumers are in a group, the topic each
// reads, and the partitions each owns. The controller splits a topic's partitions between the members
// that read it (a sticky, balanced assignment, as Kafka's new consumer protocol computes on the server)
// and hands a partition to its new owner only once no other member owns it: the old owner first stops
// reading it, commits its progress and reports that it let go (or leaves, or its session lapses and the
// controller removes it). So two live members of a group never own one partition at once, and a
// member's offset commits are accepted only for partitions it owns: a member removed while paused
// cannot commit over its successor's progress.
import { adminError, ok, type AdminResult } from './errors.ts';

export interface MemberAssignment {
  /** What the member may read now: partitions it owns that the target assignment leaves with it. */
  readonly assigned: readonly number[];
  /** Partitions the target assignment gives it that another member still owns (they come later). */
  readonly pending: readonly number[];
  /** Members of the group. */
  readonly members: number;
}

export interface MemberDescription {
  readonly memberId: string;
  readonly topic: string;
  /** Partitions it owns, ascending. */
  readonly partitions: readonly number[];
}

/** One member, as snapshots hold it: [group, memberId, topic, owned partitions]. */
export type MemberRow = readonly [string, string, string, readonly number[]];

export const MEMBER_ID_CHARS_MAX = 64;
const MEMBER_ID_PATTERN = /^[\w.:-]{1,64}$/;

export function validateMemberId(memberId: unknown): string | null {
  if (typeof memberId !== 'string' || !MEMBER_ID_PATTERN.test(memberId)) return `member id must be 1 to ${MEMBER_ID_CHARS_MAX} characters of letters, digits, '.', '_', ':' and '-'`;
  return null;
}

interface Member {
  topic: string;
  owned: Set<number>;
}

/**
 * The target assignment of `partitionCount` partitions to `members` (with what each owns now): balanced
 * (counts differ by at most one) and sticky (a member keeps what it owns up to its share, so a join or a
 * leave moves as few partitions as it can). Pure and deterministic: every replica computes the same.
 */
export function targetAssignment(members: ReadonlyMap<string, ReadonlySet<number>>, partitionCount: number): Map<string, number[]> {
  const target = new Map<string, number[]>();
  if (members.size === 0) return target;
  const owned = (id: string): number[] => [...(members.get(id) ?? [])].filter((p) => p < partitionCount).sort((a, b) => a - b);
  // Members that own more come first, so the larger shares go to those that already hold them.
  const order = [...members.keys()].sort((a, b) => owned(b).length - owned(a).length || (a < b ? -1 : a > b ? 1 : 0));
  const base = Math.floor(partitionCount / order.length);
  const larger = partitionCount % order.length;
  const quota = new Map(order.map((id, k) => [id, base + (k < larger ? 1 : 0)]));
  const taken = new Set<number>();
  for (const id of order) {
    const keep = owned(id).filter((p) => !taken.has(p)).slice(0, quota.get(id));
    for (const p of keep) taken.add(p);
    target.set(id, keep);
  }
  let next = 0;
  for (const id of order) {
    const mine = target.get(id) as number[];
    while (mine.length < (quota.get(id) as number)) {
      while (taken.has(next)) next++;
      mine.push(next);
      taken.add(next);
    }
    mine.sort((a, b) => a - b);
  }
  return target;
}

export class GroupMembers {
  /** group → member id → member. */
  private readonly groups = new Map<string, Map<string, Member>>();
  /** A deliberate bug for proving the simulator catches it (never set outside tests): hand a partition over while its old owner still holds it. */
  handOverWithoutRelease = false;

  /** Members of `group` (0 if it has none). */
  count(group: string): number {
    return this.groups.get(group)?.size ?? 0;
  }

  /**
   * A member's heartbeat: it joins if new (or switches topic), lets go of what it no longer reports
   * owning, and is given the partitions of its target share that no other member owns. Returns whether
   * the image changed, and what the member may read.
   */
  heartbeat(group: string, memberId: string, topic: string, partitionCount: number, reported: readonly number[]): { changed: boolean; result: AdminResult<MemberAssignment> } {
    const bad = validateMemberId(memberId);
    if (bad !== null) return { changed: false, result: adminError('INVALID_REQUEST', bad) };
    // A member that claims partitions but is unknown was removed (its session lapsed): it must let go of
    // everything and join afresh, reading from the group's committed offsets, not carry on where it was.
    if (this.groups.get(group)?.has(memberId) !== true && reported.length > 0) {
      return { changed: false, result: adminError('UNKNOWN_MEMBER', `group "${group}" has no member ${memberId} (its session lapsed, or it left); join again owning nothing`) };
    }
    const plan = this.plan(group, memberId, topic, partitionCount, reported);
    if (plan.changed) this.membersOf(group).set(memberId, { topic, owned: plan.owned });
    return { changed: plan.changed, result: ok(plan.assignment) };
  }

  /** What a heartbeat would answer, if it changes nothing (the leader then writes nothing); undefined if it would change the image. */
  steady(group: string, memberId: string, topic: string, partitionCount: number, reported: readonly number[]): MemberAssignment | undefined {
    const plan = this.plan(group, memberId, topic, partitionCount, reported);
    return plan.changed ? undefined : plan.assignment;
  }

  /** Removes a member (it left, or its session lapsed): what it owned is free for the others. */
  leave(group: string, memberId: string): boolean {
    const members = this.groups.get(group);
    if (members?.delete(memberId) !== true) return false;
    if (members.size === 0) this.groups.delete(group);
    return true;
  }

  /** Whether `memberId` of `group` owns every partition of `topic` named. */
  owns(group: string, memberId: string, topic: string, partitions: readonly number[]): 'yes' | 'unknown-member' | number {
    const m = this.groups.get(group)?.get(memberId);
    if (m === undefined) return 'unknown-member';
    for (const p of partitions) if (m.topic !== topic || !m.owned.has(p)) return p;
    return 'yes';
  }

  describe(group: string): MemberDescription[] {
    const members = this.groups.get(group);
    if (members === undefined) return [];
    return [...members].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([memberId, m]) => ({ memberId, topic: m.topic, partitions: [...m.owned].sort((a, b) => a - b) }));
  }

  /** Every (group, member) pair, for the controller leader's session timers. */
  *all(): IterableIterator<readonly [string, string]> {
    for (const [group, members] of this.groups) for (const memberId of members.keys()) yield [group, memberId];
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  /** A deleted topic's partitions are owned by nobody (its readers stay members, reading nothing). */
  dropTopic(topic: string): void {
    for (const members of this.groups.values()) for (const m of members.values()) if (m.topic === topic) m.owned.clear();
  }

  rows(): MemberRow[] {
    const rows: MemberRow[] = [];
    for (const [group, members] of this.groups) for (const [memberId, m] of members) rows.push([group, memberId, m.topic, [...m.owned]]);
    return rows;
  }

  restore(rows: readonly MemberRow[]): void {
    this.groups.clear();
    for (const [group, memberId, topic, owned] of rows) this.membersOf(group).set(memberId, { topic, owned: new Set(owned) });
  }

  /** The target assignment of a topic's readers (a method, so that a test can make a group that hands out nothing). */
  private targetOf(readers: ReadonlyMap<string, ReadonlySet<number>>, partitionCount: number): Map<string, number[]> {
    return targetAssignment(readers, partitionCount);
  }

  private membersOf(group: string): Map<string, Member> {
    let members = this.groups.get(group);
    if (members === undefined) {
      members = new Map();
      this.groups.set(group, members);
    }
    return members;
  }

  /**
   * What a heartbeat makes of the member, without changing anything: it keeps what it owns and still
   * reports (a new member, or one that switched topic, owns nothing), the target share is computed with
   * that, and the partitions of its share no other member owns are added.
   */
  private plan(group: string, memberId: string, topic: string, partitionCount: number, reported: readonly number[]): { owned: Set<number>; assignment: MemberAssignment; changed: boolean } {
    const members = this.groups.get(group);
    const m = members?.get(memberId);
    const still = new Set(reported);
    const owned = new Set(m === undefined || m.topic !== topic ? [] : [...m.owned].filter((p) => still.has(p) && p < partitionCount));
    const readers = new Map<string, ReadonlySet<number>>();
    const ownedByOthers = new Set<number>();
    for (const [id, x] of members ?? []) {
      if (id === memberId || x.topic !== topic) continue;
      readers.set(id, x.owned);
      for (const p of x.owned) ownedByOthers.add(p);
    }
    // Letting go is a change even if the same partition is given back at once (the member's report says
    // it stopped reading it).
    let changed = m === undefined || m.topic !== topic || owned.size !== m.owned.size;
    readers.set(memberId, owned);
    const mine = this.targetOf(readers, partitionCount).get(memberId) ?? [];
    for (const p of mine) {
      if (owned.has(p) || (!this.handOverWithoutRelease && ownedByOthers.has(p))) continue;
      owned.add(p);
      changed = true;
    }
    return {
      owned,
      changed,
      assignment: {
        assigned: mine.filter((p) => owned.has(p)),
        pending: mine.filter((p) => !owned.has(p) && ownedByOthers.has(p)),
        members: (members?.size ?? 0) + (m === undefined ? 1 : 0),
      },
    };
  }
}
