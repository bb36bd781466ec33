// The controller's service on every node: admin requests (any node accepts them and forwards writes to
// the controller leader), linearizable reads through ReadIndex, and the broker lifecycle — registration,
// heartbeats on a lease, fencing of brokers whose lease lapsed (decided by the leader, in memory, and
// written to the metadata log only when a broker's state changes, as KRaft does).
import { encodeCommand, decodeCommand, type Command } from '../controller/commands.ts';
import { adminError, type AdminResult } from '../controller/errors.ts';
import type { PartitionOffset } from '../controller/group-offsets.ts';
import type { GroupDescription } from '../controller/consumer-groups.ts';
import type { MetadataState, TopicDescription } from '../controller/metadata.ts';
import { NONE, type NodeId } from '../raft/types.ts';
import type { Driver } from './driver.ts';
import type { Clock, Logger } from './ports.ts';
import type { ProposeOutcome, Replica } from './replica.ts';

/** Deliberate bugs for proving the simulator catches them; never set outside tests. */
export interface ControllerPlantedBugs {
  /** Serve "linearizable" reads from the local image without a ReadIndex round. */
  readonly staleLinearizableReads?: boolean;
  /** Give a group member a partition while another member still holds it (controller/group-members.ts). */
  readonly handOverWithoutRelease?: boolean;
  /** Accept a commit from a member the group no longer has (controller/consumer-groups.ts). */
  readonly commitsFromRemovedMembers?: boolean;
}

export interface ControllerServiceOptions {
  readonly plantedBugs?: ControllerPlantedBugs;
  /** How often a broker heartbeats the controller leader. */
  readonly brokerHeartbeatMs: number;
  /** A broker not heard from for this long is fenced. */
  readonly brokerLeaseMs: number;
  /** Forwarded requests give up after this long. */
  readonly forwardTimeoutMs: number;
}

export const DEFAULT_CONTROLLER_OPTIONS: ControllerServiceOptions = { brokerHeartbeatMs: 500, brokerLeaseMs: 3_000, forwardTimeoutMs: 5_000 };

export type Consistency = 'linearizable' | 'local';

export interface Versioned<T> {
  readonly value: T;
  /** Metadata version of the image the answer was read from. */
  readonly version: number;
}

type ReadQuery =
  | { readonly kind: 'list' }
  | { readonly kind: 'describe'; readonly name: string }
  | { readonly kind: 'offsets'; readonly group: string; readonly topic: string }
  | { readonly kind: 'groups' }
  | { readonly kind: 'group'; readonly group: string };

/** What a query reads from an image: the same for a read served here and one forwarded to the leader. */
function runQuery(q: ReadQuery, m: MetadataState): unknown {
  switch (q.kind) {
    case 'list': return m.listTopics();
    case 'describe': return m.describeTopic(q.name);
    case 'offsets': return m.committedOffsets(q.group, q.topic);
    case 'groups': return m.groupIds();
    case 'group': return m.describeGroup(q.group);
  }
}

/** A forwarded query, or undefined if its body is not one (it came from a peer's bytes). */
function asQuery(body: unknown): ReadQuery | undefined {
  const q = body as Partial<Record<string, unknown>> | null;
  const str = (k: string): boolean => typeof q?.[k] === 'string';
  switch (q?.['kind']) {
    case 'list': case 'groups': return q as ReadQuery;
    case 'describe': return str('name') ? (q as ReadQuery) : undefined;
    case 'offsets': return str('group') && str('topic') ? (q as ReadQuery) : undefined;
    case 'group': return str('group') ? (q as ReadQuery) : undefined;
    default: return undefined;
  }
}

/** `done` for a read of a topic's data: the image answers undefined when there is no such topic. */
function topicMustExist<T>(topic: string, done: (r: AdminResult<Versioned<T>>) => void): (r: AdminResult<Versioned<T | undefined>>) => void {
  return (r) => {
    if (!r.ok) return done(r);
    const { value, version } = r.value;
    done(value === undefined ? adminError('UNKNOWN_TOPIC', `topic "${topic}" does not exist`) : { ok: true, value: { value, version } });
  };
}

interface Heartbeat {
  readonly broker: NodeId;
  readonly epoch: number;
  readonly appliedVersion: number;
}

interface Lease {
  lastHeardMs: number;
  appliedVersion: number;
}

export class ControllerService {
  /** This broker's epoch once registered. */
  epoch = 0;
  private registering = false;
  private heartbeatDueMs = 0;
  private readonly leases = new Map<NodeId, Lease>();
  private wasLeader = false;
  /** Fence/unfence proposals in flight, so one lapse produces one record. */
  private readonly pendingFencing = new Set<NodeId>();
  /** Without a controller replica of its own (it stepped aside): the leader as peers last reported it. */
  private remoteLeader: NodeId = NONE;
  private ticks = 0;

  constructor(
    private readonly nodeId: NodeId,
    private readonly address: string,
    /** This process start's incarnation (known once the node loaded its disk). */
    private readonly incarnation: () => number,
    private readonly replica: () => Replica | undefined,
    readonly metadata: MetadataState,
    private readonly driver: Driver,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: ControllerServiceOptions,
    /** Every broker of the cluster (to find the controller leader without a replica). */
    private readonly peers: readonly NodeId[],
  ) {
    driver.handle('controller.write', (_from, body, reply) => this.handleForwardedWrite(body, reply));
    driver.handle('controller.heartbeat', (_from, body, reply) => reply(this.handleHeartbeat(body as Heartbeat)));
    driver.handle('controller.leader', (_from, _body, reply) => reply({ leader: this.replica()?.leader ?? NONE }));
    driver.handle('controller.read', (_from, body, reply) => this.handleForwardedRead(body, reply));
    driver.onTick(() => this.onTick());
  }

  /** The controller leader as this node knows it (NONE if unknown). */
  leader(): NodeId {
    const r = this.replica();
    return r === undefined ? this.remoteLeader : r.leader;
  }

  isLeader(): boolean {
    return this.replica()?.isLeader === true;
  }

  // ---- writes ---------------------------------------------------------------------------------

  /** Applies a metadata command through the controller leader (forwarding if needed). */
  write(c: Command, done: (r: AdminResult<unknown>) => void): void {
    const r = this.replica();
    if (r?.isLeader === true) return this.propose(c, done);
    const leader = this.leader();
    if (leader === NONE || leader === this.nodeId) return done(adminError('NOT_CONTROLLER', 'no controller leader is known yet; retry', NONE));
    this.driver.request(leader, 'controller.write', c, this.options.forwardTimeoutMs, (resp) => {
      if (resp === undefined) return done(adminError('REQUEST_TIMED_OUT', `controller leader ${leader} did not answer within ${this.options.forwardTimeoutMs} ms; the outcome is unknown`));
      done(resp as AdminResult<unknown>);
    });
  }

  private propose(c: Command, done: (r: AdminResult<unknown>) => void): void {
    const r = this.replica();
    if (r === undefined) return done(adminError('NOT_CONTROLLER', 'no controller replica', NONE));
    r.propose(encodeCommand(c), (o: ProposeOutcome) => done(this.outcome(o)));
  }

  private outcome(o: ProposeOutcome): AdminResult<unknown> {
    if (o.ok) return o.result as AdminResult<unknown>;
    switch (o.code) {
      case 'REQUEST_TIMED_OUT':
      case 'OUTCOME_UNKNOWN':
        return adminError('REQUEST_TIMED_OUT', 'the metadata change did not commit in time; its outcome is unknown (retry with the same request id)');
      default:
        // Refused or lost before commit: nothing was applied, a retry is safe.
        return adminError('NOT_CONTROLLER', `this node is no longer the controller leader (${o.code})`, o.leader);
    }
  }

  private handleForwardedWrite(body: unknown, reply: (b: unknown) => void): void {
    const c = decodeCommand(encodeCommand(body as Command));
    if (c === undefined) return reply(adminError('INVALID_REQUEST', 'malformed forwarded request'));
    const r = this.replica();
    // Forward once only: a node that is not leader answers with its hint instead of forwarding again.
    if (r === undefined || !r.isLeader) return reply(adminError('NOT_CONTROLLER', 'not the controller leader', r?.leader ?? NONE));
    this.propose(c, reply);
  }

  // ---- reads ----------------------------------------------------------------------------------

  /**
   * Runs `read` on the local image. Linearizable reads first get a read index from the leader
   * (ReadIndex, thesis §6.4) and wait until this node has applied it; local reads answer at once with
   * the image's version.
   */
  read<T>(consistency: Consistency, read: (m: MetadataState) => T, done: (r: AdminResult<Versioned<T>>) => void): void {
    const answer = (): void => done({ ok: true, value: { value: read(this.metadata), version: this.metadata.version } });
    const r = this.replica();
    if (r === undefined) return done(adminError('NOT_CONTROLLER', 'this node has no metadata image (its controller replica stepped aside); ask another node', this.remoteLeader));
    if (consistency === 'local' || this.options.plantedBugs?.staleLinearizableReads === true) return answer();
    r.readIndex((o) => {
      if (o.ok) answer();
      else if (o.code === 'REQUEST_TIMED_OUT') done(adminError('REQUEST_TIMED_OUT', 'linearizable read did not complete in time'));
      else done(adminError('NOT_CONTROLLER', 'no controller leader to confirm the read', o.leader));
    });
  }

  /** Reads that this node cannot serve (no metadata image) go to the controller leader. */
  private readRemote<T>(query: ReadQuery, done: (r: AdminResult<Versioned<T>>) => void): void {
    const leader = this.remoteLeader;
    if (leader === NONE) return done(adminError('NOT_CONTROLLER', 'no controller leader is known yet; retry', NONE));
    this.driver.request(leader, 'controller.read', query, this.options.forwardTimeoutMs, (resp) => {
      if (resp === undefined) return done(adminError('REQUEST_TIMED_OUT', `controller leader ${leader} did not answer`));
      done(resp as AdminResult<Versioned<T>>);
    });
  }

  private handleForwardedRead(body: unknown, reply: (b: unknown) => void): void {
    if (this.replica() === undefined) return reply(adminError('NOT_CONTROLLER', 'no metadata image here', this.remoteLeader));
    const q = asQuery(body);
    if (q === undefined) return reply(adminError('INVALID_REQUEST', 'malformed read'));
    this.read('linearizable', (m) => runQuery(q, m), reply);
  }

  /** Runs a query on this node's image, or at the controller leader when this node has none. */
  private query<T>(q: ReadQuery, consistency: Consistency, done: (r: AdminResult<Versioned<T>>) => void): void {
    if (this.replica() === undefined) return this.readRemote(q, done);
    this.read(consistency, (m) => runQuery(q, m) as T, done);
  }

  listTopics(consistency: Consistency, done: (r: AdminResult<Versioned<string[]>>) => void): void {
    this.query({ kind: 'list' }, consistency, done);
  }

  describeTopic(name: string, consistency: Consistency, done: (r: AdminResult<Versioned<TopicDescription>>) => void): void {
    this.query({ kind: 'describe', name }, consistency, topicMustExist(name, done));
  }

  /** A consumer group's committed offsets of a topic (UNKNOWN_TOPIC if there is no such topic). */
  committedOffsets(group: string, topic: string, consistency: Consistency, done: (r: AdminResult<Versioned<PartitionOffset[]>>) => void): void {
    this.query({ kind: 'offsets', group, topic }, consistency, topicMustExist(topic, done));
  }

  /** Consumer groups with committed offsets or members, in name order. */
  listGroups(consistency: Consistency, done: (r: AdminResult<Versioned<string[]>>) => void): void {
    this.query({ kind: 'groups' }, consistency, done);
  }

  /** Everything a consumer group committed, by topic, and its members (nothing for an unknown group). */
  describeGroup(group: string, consistency: Consistency, done: (r: AdminResult<Versioned<GroupDescription>>) => void): void {
    this.query({ kind: 'group', group }, consistency, done);
  }

  // ---- broker lifecycle -----------------------------------------------------------------------

  private onTick(): void {
    const now = this.clock.now();
    this.ticks++;
    // A node whose controller replica stepped aside asks a peer, now and then, who leads the controller,
    // so it can still forward requests. It sends no heartbeats (it cannot follow the metadata), so the
    // leader fences it and it gets no new replicas.
    if (this.replica() === undefined) {
      if (this.ticks % 10 === 1) this.discoverLeader();
      return;
    }
    if (this.epoch === 0) this.register();
    else if (now >= this.heartbeatDueMs) {
      this.heartbeatDueMs = now + this.options.brokerHeartbeatMs;
      this.sendHeartbeat();
    }
    this.leaderDuties(now);
  }

  private discoverLeader(): void {
    const peers = this.peers.filter((p) => p !== this.nodeId);
    if (peers.length === 0) return;
    const peer = peers[this.ticks % peers.length] as NodeId;
    this.driver.request(peer, 'controller.leader', {}, 1_000, (resp) => {
      const l = (resp as { leader?: unknown } | undefined)?.leader;
      if (typeof l === 'number' && l > 0) this.remoteLeader = l as NodeId;
    });
  }

  private register(): void {
    if (this.registering) return;
    this.registering = true;
    this.write({ type: 'register-broker', broker: this.nodeId, address: this.address, incarnation: this.incarnation() }, (r) => {
      this.registering = false;
      if (!r.ok) return; // retried at the next tick
      this.epoch = (r.value as { epoch: number }).epoch;
      this.logger.info('registered with the controller', { epoch: this.epoch });
    });
  }

  private sendHeartbeat(): void {
    const hb: Heartbeat = { broker: this.nodeId, epoch: this.epoch, appliedVersion: this.metadata.version };
    const leader = this.leader();
    if (leader === NONE) return;
    if (leader === this.nodeId) {
      this.handleHeartbeat(hb);
      return;
    }
    this.driver.request(leader, 'controller.heartbeat', hb, this.options.brokerHeartbeatMs * 2, (resp) => {
      const r = resp as { error?: string } | undefined;
      // A stale epoch means the controller no longer knows this incarnation: register again.
      if (r?.error === 'STALE_BROKER_EPOCH') this.epoch = 0;
    });
  }

  private handleHeartbeat(hb: Heartbeat): { ok: boolean; error?: string } {
    if (!this.isLeader()) return { ok: false, error: 'NOT_CONTROLLER' };
    const b = this.metadata.brokers.get(hb.broker);
    if (b === undefined || b.epoch !== hb.epoch) return { ok: false, error: 'STALE_BROKER_EPOCH' };
    this.leases.set(hb.broker, { lastHeardMs: this.clock.now(), appliedVersion: hb.appliedVersion });
    return { ok: true };
  }

  /** The leader fences brokers whose lease lapsed and unfences caught-up brokers that heartbeat again. */
  private leaderDuties(now: number): void {
    const leading = this.isLeader();
    if (leading && !this.wasLeader) {
      // A new leader knows no leases yet: every broker gets a full lease from now (grace period).
      for (const id of this.metadata.brokers.keys()) this.leases.set(id, { lastHeardMs: now, appliedVersion: 0 });
    }
    this.wasLeader = leading;
    if (!leading) return;
    for (const b of this.metadata.brokers.values()) {
      if (this.pendingFencing.has(b.id)) continue;
      const lease = this.leases.get(b.id);
      const alive = lease !== undefined && now - lease.lastHeardMs < this.options.brokerLeaseMs;
      const caughtUp = lease !== undefined && lease.appliedVersion >= b.epoch;
      let c: Command | undefined;
      if (!b.fenced && !alive) c = { type: 'fence-broker', broker: b.id, epoch: b.epoch };
      else if (b.fenced && alive && caughtUp && !b.decommissioned) c = { type: 'unfence-broker', broker: b.id, epoch: b.epoch };
      if (c === undefined) continue;
      const fencing = c.type === 'fence-broker';
      this.pendingFencing.add(b.id);
      this.propose(c, (r) => {
        this.pendingFencing.delete(b.id);
        if (r.ok) this.logger.info(fencing ? 'fenced broker: lease lapsed' : 'unfenced broker', { broker: b.id });
      });
    }
  }
}
