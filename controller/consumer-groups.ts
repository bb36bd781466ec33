// Consumer groups in the metadata image: the offsets they committed (group-offsets.ts), their members
// and what each owns (group-members.ts), and the rules between the two: a member commits only partitions
// it owns, a group with members is not committed to from outside, reset or deleted, and an idle group
// without members expires. MetadataState applies the group commands here and bumps its version when
// something changed.
import type { Command } from './commands.ts';
import { adminError, ok, type AdminResult } from './errors.ts';
import { GroupMembers, type MemberAssignment, type MemberDescription } from './group-members.ts';
import { GroupOffsets, validateGroupId, type GroupTopicOffsets, type PartitionOffset } from './group-offsets.ts';

/** A consumer group as `keel group describe` shows it. */
export interface GroupDescription {
  readonly topics: readonly GroupTopicOffsets[];
  readonly members: readonly MemberDescription[];
}

export type GroupCommand = Extract<Command, { readonly consumerGroup: string }>;

/** What the groups need of the rest of the image. */
export interface GroupsImage {
  /** The topic's id and partition count, if it exists. */
  topic(name: string): { readonly id: number; readonly partitions: number } | undefined;
  /** Bumps the image's version (something changed) and returns the new one. */
  changed(): number;
}

export class ConsumerGroups {
  readonly offsets = new GroupOffsets();
  readonly members = new GroupMembers();
  /** A deliberate bug (tests only): accept a commit from a member the group no longer has (a zombie whose session lapsed). */
  commitsFromRemovedMembers = false;

  constructor(private readonly image: GroupsImage) {}

  apply(c: GroupCommand): AdminResult<unknown> {
    switch (c.type) {
      case 'commit-offsets':
        return this.commit(c.consumerGroup, c.topic, c.topicId, c.offsets, 'forward', c.memberId);
      case 'reset-offsets':
        return this.commit(c.consumerGroup, c.topic, c.topicId, c.offsets, 'reset');
      case 'delete-group': {
        const invalid = validateGroupId(c.consumerGroup);
        if (invalid !== null) return adminError('INVALID_GROUP', invalid);
        const busy = this.withoutMembers(c.consumerGroup, 'deleted');
        if (busy !== null) return busy;
        const deleted = this.offsets.deleteGroup(c.consumerGroup);
        if (deleted) this.image.changed();
        return ok({ deleted });
      }
      case 'member-heartbeat':
        return this.memberHeartbeat(c.consumerGroup, c.memberId, c.topic, c.topicId, c.owned);
      case 'leave-group': {
        const left = this.members.leave(c.consumerGroup, c.memberId);
        if (left) this.image.changed();
        return ok({ left });
      }
      case 'expire-group': {
        const idle = this.members.count(c.consumerGroup) === 0 && this.offsets.changedAtVersion(c.consumerGroup) === c.changedAt;
        const expired = idle && this.offsets.deleteGroup(c.consumerGroup);
        if (expired) this.image.changed();
        return ok({ expired });
      }
    }
  }

  /** What a heartbeat reporting exactly what the member owns answers, if it changes nothing (the leader then writes nothing). */
  steadyMember(group: string, memberId: string, topic: string, topicId: number, owned: readonly number[]): MemberAssignment | undefined {
    const t = this.image.topic(topic);
    if (t === undefined || t.id !== topicId) return undefined;
    return this.members.steady(group, memberId, topic, t.partitions, owned);
  }

  /** Consumer groups with committed offsets or members, in name order. */
  groupIds(): string[] {
    return [...new Set([...this.offsets.groupIds(), ...this.members.groupIds()])].sort();
  }

  describe(group: string): GroupDescription {
    return { topics: this.offsets.ofGroup(group), members: this.members.describe(group) };
  }

  /** A deleted topic takes its offsets along, and its partitions are owned by nobody. */
  dropTopic(topic: string): void {
    this.offsets.dropTopic(topic);
    this.members.dropTopic(topic);
  }

  /** NON_EMPTY_GROUP if `group` has members (an operator must stop them before its offsets are `what`). */
  private withoutMembers(group: string, what: string): AdminResult<never> | null {
    const members = this.members.count(group);
    if (members === 0) return null;
    return adminError('NON_EMPTY_GROUP', `group "${group}" has ${members} active member${members === 1 ? '' : 's'}; stop its consumers before its offsets are ${what}`);
  }

  private memberHeartbeat(group: string, memberId: string, topic: string, topicId: number, owned: readonly number[]): AdminResult<MemberAssignment> {
    const invalid = validateGroupId(group);
    if (invalid !== null) return adminError('INVALID_GROUP', invalid);
    const t = this.image.topic(topic);
    if (t === undefined || t.id !== topicId) return adminError('UNKNOWN_TOPIC', `topic "${topic}"${t === undefined ? '' : ` with id ${topicId}`} does not exist`);
    const { changed, result } = this.members.heartbeat(group, memberId, topic, t.partitions, owned);
    if (changed) this.image.changed();
    return result;
  }

  /**
   * The topic id pins the commit to the topic the group read: a commit delayed past the topic's deletion
   * must not land on a topic created again under the same name (its offsets mean nothing there).
   */
  private commit(group: string, topic: string, topicId: number, offsets: readonly PartitionOffset[], mode: 'forward' | 'reset', memberId?: string): AdminResult<unknown> {
    const t = this.image.topic(topic);
    if (t === undefined) return adminError('UNKNOWN_TOPIC', `topic "${topic}" does not exist`);
    if (t.id !== topicId) return adminError('UNKNOWN_TOPIC', `topic "${topic}" with id ${topicId} was deleted (the topic of that name now has id ${t.id})`);
    const fenced = memberId === undefined ? this.withoutMembers(group, mode === 'reset' ? 'reset' : 'committed from outside it') : this.memberMayCommit(group, memberId, topic, offsets);
    if (fenced !== null) return fenced;
    const { moved, result } = this.offsets.commit(group, topic, t.partitions, offsets, mode);
    if (moved) this.offsets.touched(group, this.image.changed());
    return result;
  }

  /** A member commits only partitions it owns: one that lost a partition cannot move its successor's offset. */
  private memberMayCommit(group: string, memberId: string, topic: string, offsets: readonly PartitionOffset[]): AdminResult<never> | null {
    const owns = this.members.owns(group, memberId, topic, offsets.map((o) => o.partition));
    if (owns === 'yes') return null;
    if (owns === 'unknown-member' && this.commitsFromRemovedMembers) return null;
    if (owns === 'unknown-member') return adminError('UNKNOWN_MEMBER', `group "${group}" has no member ${memberId.slice(0, 64)} (it left, or its session lapsed); join again`);
    return adminError('FENCED_MEMBER', `member ${memberId.slice(0, 64)} of group "${group}" does not own ${topic}/${owns} (it was given to another member)`);
  }
}
