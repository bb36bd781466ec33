// The group coordinator: consumer-group members heartbeat the controller leader, which keeps their
// sessions in memory (as it keeps broker leases) and writes to the metadata log only when membership
// changes: a member joins, lets go of a partition, is given one, leaves, or lets its session lapse
// (controller/group-members.ts decides who owns what). A heartbeat that changes nothing is answered from
// the image after a ReadIndex round, so a deposed leader cannot tell a member it still owns partitions.
// The leader also expires the offsets of groups that have had no members and no commit for the offsets
// retention (timed in its memory too: a new leader starts every group's retention afresh).
import type { Command } from '../controller/commands.ts';
import { adminError, type AdminResult } from '../controller/errors.ts';
import type { MemberAssignment } from '../controller/group-members.ts';
import type { MetadataState } from '../controller/metadata.ts';
import { NONE } from '../raft/types.ts';
import type { ControllerService } from './controller-service.ts';
import type { Driver } from './driver.ts';
import type { Clock, Logger } from './ports.ts';

export interface GroupCoordinatorOptions {
  /** How often members are told to heartbeat. */
  readonly memberHeartbeatMs: number;
  /** A member not heard from for this long is removed and its partitions go to the others. */
  readonly memberSessionMs: number;
  /** Forwarded heartbeats give up after this long. */
  readonly forwardTimeoutMs: number;
  /**
   * A group without members whose offsets have not moved for this long loses them (Kafka's
   * offsets.retention.minutes, counted as KIP-211 does: from when the group became empty or last committed).
   */
  readonly offsetsRetentionMs: number;
}

export const OFFSETS_RETENTION_MS_DEFAULT = 7 * 24 * 3_600_000;

export const DEFAULT_GROUP_COORDINATOR_OPTIONS: GroupCoordinatorOptions = { memberHeartbeatMs: 1_000, memberSessionMs: 10_000, forwardTimeoutMs: 5_000, offsetsRetentionMs: OFFSETS_RETENTION_MS_DEFAULT };

export interface MemberHeartbeat {
  readonly group: string;
  readonly memberId: string;
  readonly topic: string;
  readonly topicId: number;
  /** Partitions the member reads now (it let go of any others it was given). */
  readonly owned: readonly number[];
  /** The member is leaving: it committed its progress and reads nothing more. */
  readonly leave?: boolean;
}

export interface HeartbeatAnswer extends MemberAssignment {
  readonly heartbeatIntervalMs: number;
  readonly sessionTimeoutMs: number;
}

const HEARTBEAT_METHOD = 'group.heartbeat';
/** Groups are checked for expiry this often (ticks). */
const EXPIRY_EVERY_TICKS = 20;
/** Owned partitions a heartbeat may list (a topic has at most this many). */
const OWNED_MAX = 10_000;

/** The heartbeat, or undefined if `body` (from a peer or a client) is not one. */
function asHeartbeat(body: unknown): MemberHeartbeat | undefined {
  const h = body as Partial<Record<keyof MemberHeartbeat, unknown>> | null;
  if (h === null || typeof h !== 'object') return undefined;
  const owned = h.owned;
  if (typeof h.group !== 'string' || typeof h.memberId !== 'string' || typeof h.topic !== 'string' || typeof h.topicId !== 'number') return undefined;
  if (!Array.isArray(owned) || owned.length > OWNED_MAX || !owned.every((p) => Number.isSafeInteger(p) && (p as number) >= 0)) return undefined;
  return { group: h.group, memberId: h.memberId, topic: h.topic, topicId: h.topicId, owned: owned as number[], leave: h.leave === true };
}

const sessionKey = (group: string, memberId: string): string => `${group}\u0000${memberId}`;

export class GroupCoordinator {
  /** Leader only: when each member was last heard from. */
  private readonly lastHeardMs = new Map<string, number>();
  /** Leader only: members whose removal is being written. */
  private readonly expiring = new Set<string>();
  /** Leader only: when each group's offsets or members last changed, as this leader saw it. */
  private readonly groupActiveMs = new Map<string, number>();
  /** Leader only: groups whose expiry is being written. */
  private readonly expiringGroups = new Set<string>();
  private wasLeader = false;
  private ticks = 0;

  constructor(
    private readonly controller: ControllerService,
    private readonly metadata: MetadataState,
    private readonly driver: Driver,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: GroupCoordinatorOptions,
  ) {
    driver.handle(HEARTBEAT_METHOD, (_from, body, reply) => {
      const hb = asHeartbeat(body);
      if (hb === undefined) return reply(adminError('INVALID_REQUEST', 'malformed member heartbeat'));
      // Forwarded once only: a node that is not leader answers with its hint.
      if (!this.controller.isLeader()) return reply(adminError('NOT_CONTROLLER', 'not the controller leader', this.controller.leader()));
      this.atLeader(hb, reply);
    });
    driver.onTick(() => this.onTick());
  }

  /** A member's heartbeat (or leave), from a client of this node: handled at the controller leader. */
  heartbeat(body: MemberHeartbeat, done: (r: AdminResult<HeartbeatAnswer>) => void): void {
    const hb = asHeartbeat(body);
    if (hb === undefined) return done(adminError('INVALID_REQUEST', 'malformed member heartbeat'));
    if (this.controller.isLeader()) return this.atLeader(hb, done);
    const leader = this.controller.leader();
    if (leader === NONE) return done(adminError('NOT_CONTROLLER', 'no controller leader is known yet; retry', NONE));
    this.driver.request(leader, HEARTBEAT_METHOD, hb, this.options.forwardTimeoutMs, (resp) => {
      if (resp === undefined) return done(adminError('REQUEST_TIMED_OUT', `controller leader ${leader} did not answer the heartbeat within ${this.options.forwardTimeoutMs} ms`));
      done(resp as AdminResult<HeartbeatAnswer>);
    });
  }

  private atLeader(hb: MemberHeartbeat, done: (r: AdminResult<HeartbeatAnswer>) => void): void {
    const key = sessionKey(hb.group, hb.memberId);
    if (hb.leave === true) {
      this.lastHeardMs.delete(key);
      return this.controller.write({ type: 'leave-group', consumerGroup: hb.group, memberId: hb.memberId }, (r) => done(r.ok ? this.answer({ assigned: [], pending: [], members: this.metadata.groupMembers.count(hb.group) }) : r));
    }
    this.lastHeardMs.set(key, this.clock.now());
    this.controller.read('linearizable', (m) => m.steadyMember(hb.group, hb.memberId, hb.topic, hb.topicId, hb.owned), (r) => {
      if (!r.ok) return done(r);
      if (r.value.value !== undefined) return done(this.answer(r.value.value));
      this.controller.write({ type: 'member-heartbeat', consumerGroup: hb.group, memberId: hb.memberId, topic: hb.topic, topicId: hb.topicId, owned: [...hb.owned] }, (w) => {
        done(w.ok ? this.answer(w.value as MemberAssignment) : w);
      });
    });
  }

  private answer(a: MemberAssignment): AdminResult<HeartbeatAnswer> {
    return { ok: true, value: { ...a, heartbeatIntervalMs: this.options.memberHeartbeatMs, sessionTimeoutMs: this.options.memberSessionMs } };
  }

  /** The metadata changed (every node calls this as it applies): a group's activity restarts its retention. */
  changed(c: Command): void {
    if ('consumerGroup' in c && c.type !== 'expire-group') this.groupActiveMs.set(c.consumerGroup, this.clock.now());
  }

  /**
   * The leader removes members whose session lapsed and expires groups idle for the offsets retention;
   * a new leader gives every member a full session, and every group a full retention, first.
   */
  private onTick(): void {
    const leading = this.controller.isLeader();
    if (leading !== this.wasLeader) {
      this.lastHeardMs.clear();
      this.groupActiveMs.clear();
    }
    this.wasLeader = leading;
    if (!leading) return;
    const now = this.clock.now();
    if (++this.ticks % EXPIRY_EVERY_TICKS === 0) this.expireIdleGroups(now);
    const live = new Set<string>();
    for (const [group, memberId] of this.metadata.groupMembers.all()) {
      const key = sessionKey(group, memberId);
      live.add(key);
      const heard = this.lastHeardMs.get(key);
      if (heard === undefined) {
        this.lastHeardMs.set(key, now);
        continue;
      }
      if (now - heard < this.options.memberSessionMs || this.expiring.has(key)) continue;
      this.expiring.add(key);
      this.controller.write({ type: 'leave-group', consumerGroup: group, memberId }, (r) => {
        this.expiring.delete(key);
        if (r.ok) this.logger.info('removed group member: session lapsed', { group, memberId, silentMs: now - heard });
      });
    }
    for (const key of this.lastHeardMs.keys()) if (!live.has(key)) this.lastHeardMs.delete(key);
  }

  private expireIdleGroups(now: number): void {
    const m = this.metadata;
    for (const group of m.groupOffsets.groupIds()) {
      if (m.groupMembers.count(group) > 0 || this.expiringGroups.has(group)) continue;
      const active = this.groupActiveMs.get(group);
      if (active === undefined) {
        this.groupActiveMs.set(group, now);
        continue;
      }
      if (now - active < this.options.offsetsRetentionMs) continue;
      this.expiringGroups.add(group);
      this.controller.write({ type: 'expire-group', consumerGroup: group, changedAt: m.groupOffsets.changedAtVersion(group) }, (r) => {
        this.expiringGroups.delete(group);
        this.groupActiveMs.delete(group);
        if (r.ok && (r.value as { expired: boolean }).expired) this.logger.info('expired consumer group: no members, offsets idle for the retention', { group, idleMs: now - active });
      });
    }
  }
}
