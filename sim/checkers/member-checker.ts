// Consumer-group membership, as its members see it (DESIGN.md §6: a group's partitions are split, and
// offsets move only through their owner). A member holds a partition from the heartbeat answer that gave
// it until it lets go (stops reading it) or drops everything (it believes itself removed).
//   partition-held-twice    a member is given a partition that another member still holds, and that
//                           other member had not been removed from the group (a removed member is a
//                           zombie: its view no longer counts, and its commits are refused)
//   removed-member-answered a heartbeat sent after the member's removal was applied was answered with
//                           partitions to read (an answer from a stale image)
//   zombie-commit           a commit acknowledged for a partition, sent after another member was given
//                           that partition or after the committer's removal was applied
// Times are the simulator's (one clock for every client); removal is when the first node applied it.
import type { Violation } from './raft-checker.ts';

interface Holding {
  readonly member: string;
  readonly sinceMs: number;
}

export class MemberChecker {
  readonly violations: Violation[] = [];
  grants = 0;
  commitsAcked = 0;
  commitsFenced = 0;
  /** partition → who holds it now, as members see it (more than one only in a violation or with zombies). */
  private readonly holders = new Map<number, Holding[]>();
  /** member → when its removal was first applied. */
  private readonly removedAtMs = new Map<string, number>();
  /** partition → the member most recently given it, and when. */
  private readonly lastGrant = new Map<number, Holding>();

  constructor(private readonly now: () => number) {}

  private fail(checker: string, message: string): void {
    if (this.violations.length < 20) this.violations.push({ checker, message, atMs: this.now() });
  }

  /** A node applied the member's removal (it left, or its session lapsed). */
  removed(member: string): void {
    if (!this.removedAtMs.has(member)) this.removedAtMs.set(member, this.now());
  }

  /** An answer to a heartbeat sent at `sentMs` gave `member` these partitions to read (new ones and kept ones). */
  answered(member: string, sentMs: number, assigned: readonly number[]): void {
    const removed = this.removedAtMs.get(member);
    if (removed !== undefined && sentMs > removed) {
      // It reported what it held: a removed member must be told it is unknown, not to keep reading. One
      // that held nothing joins again under its id (as a real consumer does), and is a member from then on.
      const kept = assigned.filter((p) => (this.holders.get(p) ?? []).some((h) => h.member === member));
      if (kept.length > 0) this.fail('removed-member-answered', `member ${member} was removed at ${removed.toFixed(0)} ms, yet its heartbeat of ${sentMs.toFixed(0)} ms was answered: keep reading ${kept.join(',')}`);
      else if (assigned.length > 0) this.removedAtMs.delete(member);
    }
    for (const p of assigned) {
      const held = this.holders.get(p) ?? [];
      if (held.some((h) => h.member === member)) continue;
      this.grants++;
      for (const h of held) {
        if (!this.removedAtMs.has(h.member)) this.fail('partition-held-twice', `partition ${p} given to ${member} while ${h.member} (not removed) still held it (since ${h.sinceMs.toFixed(0)} ms)`);
      }
      const mine = { member, sinceMs: this.now() };
      this.holders.set(p, [...held, mine]);
      this.lastGrant.set(p, mine);
    }
  }

  /** `member` stopped reading `partition`. */
  released(member: string, partition: number): void {
    const held = this.holders.get(partition);
    if (held !== undefined) this.holders.set(partition, held.filter((h) => h.member !== member));
  }

  /** A commit by `member` of `partition`, sent at `sentMs`, was acknowledged (or refused with `code`). */
  committed(member: string, partition: number, sentMs: number, code: string | null): void {
    if (code !== null) {
      if (code === 'FENCED_MEMBER' || code === 'UNKNOWN_MEMBER') this.commitsFenced++;
      return;
    }
    this.commitsAcked++;
    const removed = this.removedAtMs.get(member);
    if (removed !== undefined && sentMs > removed) this.fail('zombie-commit', `member ${member}'s commit of partition ${partition} sent at ${sentMs.toFixed(0)} ms was accepted after its removal at ${removed.toFixed(0)} ms`);
    const g = this.lastGrant.get(partition);
    if (g !== undefined && g.member !== member && sentMs > g.sinceMs) this.fail('zombie-commit', `member ${member}'s commit of partition ${partition} sent at ${sentMs.toFixed(0)} ms was accepted although ${g.member} was given the partition at ${g.sinceMs.toFixed(0)} ms`);
  }
}
