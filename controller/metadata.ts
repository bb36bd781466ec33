// The cluster metadata: the state machine of the controller Raft group (KRaft-style). Every node applies
// the same committed records in the same order, so every node holds the same image; apply is pure and
// deterministic (placement included), and every change bumps the metadata version.
import type { Entry, Index, NodeId } from '../raft/types.ts';
import { decodeCommand, type Command, type GroupId } from './commands.ts';
import { adminError, ok, type AdminError, type AdminResult } from './errors.ts';
import { ConsumerGroups, type GroupDescription } from './consumer-groups.ts';
import type { GroupMembers, MemberAssignment, MemberRow } from './group-members.ts';
import type { GroupOffsets, OffsetRow, PartitionOffset } from './group-offsets.ts';
import { placePartitions, replacementFor, type BrokerLoad } from './placement.ts';
import { resolveTopicConfig, topicNameCollisionKey, unknownConfig, validatePartitions, validateReplicationFactor, validateTopicName, type TopicConfig } from './topic-config.ts';

export interface BrokerRecord {
  readonly id: NodeId;
  readonly address: string;
  /** Changes at every process start; a new incarnation gets a new epoch. */
  readonly incarnation: number;
  /** Metadata version at registration: heartbeats and shutdown requests must carry it. */
  readonly epoch: number;
  fenced: boolean;
  shuttingDown: boolean;
  decommissioned: boolean;
}

export interface PartitionRecord {
  readonly topic: string;
  readonly partition: number;
  readonly group: GroupId;
  /** The replica set at creation: the members every first replica bootstraps its Raft group with. */
  readonly initialReplicas: readonly NodeId[];
  /** The replica set (the partition group's members); the first replica is the preferred leader. */
  replicas: NodeId[];
  /** Set while a reassignment is in progress: the replica set being moved to. */
  target: NodeId[] | null;
  /** Leader as last reported by the partition group, and its Raft term. */
  leader: NodeId;
  leaderTerm: number;
}

export interface TopicRecord {
  readonly name: string;
  readonly id: number;
  readonly replicationFactor: number;
  readonly configs: TopicConfig;
  readonly groups: readonly GroupId[];
}

export interface PartitionDescription {
  readonly partition: number;
  readonly group: GroupId;
  readonly replicas: readonly NodeId[];
  /** The replica that last reported leading, or 0 if none has or its broker is offline. */
  readonly leader: NodeId;
  /** Replicas on fenced brokers. */
  readonly offline: readonly NodeId[];
  readonly reassigningTo?: readonly NodeId[];
}

export interface TopicDescription {
  readonly name: string;
  readonly id: number;
  readonly replicationFactor: number;
  readonly configs: TopicConfig;
  readonly partitions: readonly PartitionDescription[];
}

export type ApplyResult = AdminResult<unknown>;

/** Results of recent request ids, so a retried request returns the first answer instead of applying twice. */
export const REQUEST_IDS_KEPT_MAX = 10_000;

/**
 * A request id's remembered answer, with the request it answered: a retry must be the same request.
 * The fingerprint is the command's JSON, which holds every field the request carried.
 */
interface RememberedRequest {
  readonly fingerprint: string;
  readonly result: ApplyResult;
}

const FIRST_PARTITION_GROUP = 1;

function mix(h: number, s: string): number {
  let x = h >>> 0;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return x;
}

export class MetadataState {
  /** Bumped by every change. */
  version = 0;
  /** Rolling hash over every (change, result): equal versions on two nodes must have equal digests. */
  digest = 0x811c9dc5;
  appliedIndex = 0 as Index;
  readonly brokers = new Map<NodeId, BrokerRecord>();
  readonly topics = new Map<string, TopicRecord>();
  readonly partitions = new Map<GroupId, PartitionRecord>();
  /** Consumer groups: committed offsets and members. */
  readonly groups = new ConsumerGroups({
    topic: (name) => {
      const t = this.topics.get(name);
      return t === undefined ? undefined : { id: t.id, partitions: t.groups.length };
    },
    changed: () => {
      this.changed();
      return this.version;
    },
  });
  get groupOffsets(): GroupOffsets {
    return this.groups.offsets;
  }
  get groupMembers(): GroupMembers {
    return this.groups.members;
  }
  private readonly requests = new Map<string, RememberedRequest>();
  private nextGroup = FIRST_PARTITION_GROUP;

  /** The next partition group id to be allocated: every group below it was created at some point. */
  get nextGroupId(): GroupId {
    return this.nextGroup;
  }
  private nextTopicId = 1;
  private nextProducerId = 1_000;
  /** Called after every change (the node reacts: hosts new partitions, drops deleted ones...). */
  onChange: (c: Command, result: ApplyResult) => void = () => {};

  // ---- StateMachine -------------------------------------------------------------------------

  apply(e: Entry): unknown {
    this.appliedIndex = e.index;
    if (e.data.byteLength === 0) return undefined; // a new leader's empty entry
    const c = decodeCommand(e.data);
    if (c === undefined) return adminError('INVALID_REQUEST', 'undecodable metadata record');
    return this.applyCommand(c);
  }

  applyCommand(c: Command): ApplyResult {
    const requestId = 'requestId' in c ? c.requestId : undefined;
    const fingerprint = requestId !== undefined ? JSON.stringify(c) : '';
    if (requestId !== undefined) {
      const earlier = this.requests.get(requestId);
      if (earlier !== undefined && earlier.fingerprint === fingerprint) return earlier.result;
      // Reusing an id for another request would silently answer it with the first one's result.
      if (earlier !== undefined) return adminError('INVALID_REQUEST', `request id ${requestId.slice(0, 64)} was already used for a different request`);
    }
    const before = this.version;
    const result = this.dispatch(c);
    // Every decision is remembered, refusals too: a request answered "refused" must never take effect
    // later, when a delayed copy of an earlier attempt (stuck behind a paused node, say) arrives after
    // the client saw the refusal. A client that wants a fresh evaluation sends a new request id.
    if (requestId !== undefined) {
      this.requests.set(requestId, { fingerprint, result });
      if (this.requests.size > REQUEST_IDS_KEPT_MAX) this.requests.delete(this.requests.keys().next().value as string);
    }
    if (this.version !== before) {
      this.digest = mix(this.digest, JSON.stringify([c, result]));
      this.onChange(c, result);
    }
    return result;
  }

  private changed(): void {
    this.version++;
  }

  private dispatch(c: Command): ApplyResult {
    switch (c.type) {
      case 'register-broker':
        return this.registerBroker(c.broker, c.address, c.incarnation);
      case 'fence-broker':
      case 'unfence-broker': {
        const b = this.brokers.get(c.broker);
        if (b === undefined || b.epoch !== c.epoch) return adminError('STALE_BROKER_EPOCH', `broker ${c.broker} epoch ${c.epoch} is not current`);
        const fenced = c.type === 'fence-broker';
        if (b.fenced !== fenced) {
          b.fenced = fenced;
          this.changed();
        }
        return ok({ fenced });
      }
      case 'shutdown-broker': {
        const b = this.brokers.get(c.broker);
        if (b === undefined || b.epoch !== c.epoch) return adminError('STALE_BROKER_EPOCH', `broker ${c.broker} epoch ${c.epoch} is not current`);
        if (!b.shuttingDown) {
          b.shuttingDown = true;
          this.changed();
        }
        return ok({ shuttingDown: true });
      }
      case 'decommission-broker':
        return this.decommission(c.broker);
      case 'create-topic':
        return this.createTopic(c.name, c.partitions, c.replicationFactor, c.configs, c.replicasPerBrokerMax);
      case 'delete-topic':
        return this.deleteTopic(c.name);
      case 'add-partitions':
        return this.addPartitions(c.name, c.partitions, c.replicasPerBrokerMax);
      case 'alter-topic-configs':
        return this.alterTopicConfigs(c.name, c.configs, c.deleteConfigs ?? []);
      case 'report-leader': {
        const p = this.partitions.get(c.group);
        if (p === undefined || c.term < p.leaderTerm || (c.term === p.leaderTerm && c.leader === p.leader)) return ok({ stale: true });
        p.leader = c.leader;
        p.leaderTerm = c.term;
        this.changed();
        return ok({});
      }
      case 'reassignment-done': {
        const p = this.partitions.get(c.group);
        if (p === undefined || p.target === null || !sameSet(p.target, c.replicas)) return ok({ stale: true });
        p.replicas = [...p.target];
        p.target = null;
        this.changed();
        return ok({});
      }
      case 'init-producer-id':
        this.changed();
        return ok({ producerId: this.nextProducerId++, producerEpoch: 0 });
      case 'commit-offsets':
      case 'reset-offsets':
      case 'delete-group':
      case 'member-heartbeat':
      case 'leave-group':
      case 'expire-group':
        return this.groups.apply(c);
    }
  }

  private registerBroker(id: NodeId, address: string, incarnation: number): ApplyResult {
    const b = this.brokers.get(id);
    if (b !== undefined && b.incarnation === incarnation) return ok({ epoch: b.epoch }); // a retried registration
    this.changed();
    // A (re)started broker starts fenced: it gets no new replicas until it heartbeats with the metadata
    // caught up (KIP-631's lifecycle).
    this.brokers.set(id, { id, address, incarnation, epoch: this.version, fenced: true, shuttingDown: false, decommissioned: b?.decommissioned ?? false });
    return ok({ epoch: this.version });
  }

  /** Brokers that may receive new replicas now. */
  eligibleBrokers(): NodeId[] {
    return [...this.brokers.values()].filter((b) => !b.fenced && !b.shuttingDown && !b.decommissioned).map((b) => b.id).sort((a, b) => a - b);
  }

  load(): Map<NodeId, BrokerLoad> {
    const l = new Map<NodeId, BrokerLoad>();
    for (const id of this.brokers.keys()) l.set(id, { replicas: 0, leaders: 0 });
    for (const p of this.partitions.values()) {
      const set = p.target ?? p.replicas;
      set.forEach((r, k) => {
        const x = l.get(r) ?? { replicas: 0, leaders: 0 };
        x.replicas++;
        if (k === 0) x.leaders++;
        l.set(r, x);
      });
    }
    return l;
  }

  private createTopic(name: string, partitions: number, rf: number, configs: Readonly<Record<string, unknown>>, replicasPerBrokerMax: number | undefined): ApplyResult {
    const invalid: AdminError | null = validateTopicName(name) ?? validatePartitions(partitions);
    if (invalid !== null) return { ok: false, error: invalid };
    if (this.topics.has(name)) return adminError('TOPIC_ALREADY_EXISTS', `topic "${name}" already exists`);
    const collides = this.collidingTopic(name);
    if (collides !== undefined) return adminError('INVALID_TOPIC', `topic "${name}" collides with existing topic "${collides}" ('.' and '_' are the same in a topic's metrics)`);
    const placed = this.placeNew(partitions, rf, replicasPerBrokerMax, `${partitions} partitions`);
    if (!placed.ok) return placed;
    const cfg = resolveTopicConfig(configs, rf);
    if (!cfg.ok) return cfg;
    const groups = this.newPartitions(name, 0, placed.value);
    this.topics.set(name, { name, id: this.nextTopicId++, replicationFactor: rf, configs: cfg.value, groups });
    this.changed();
    return ok(this.describeTopic(name));
  }

  /**
   * Where `partitions` new partitions of `rf` replicas each go: on the eligible brokers, within the per-broker
   * budget when the command carries one (`what` names them in the refusal). Places nothing yet.
   */
  private placeNew(partitions: number, rf: number, replicasPerBrokerMax: number | undefined, what: string): AdminResult<NodeId[][]> {
    const eligible = this.eligibleBrokers();
    const badRf = validateReplicationFactor(rf, eligible.length);
    if (badRf !== null) return { ok: false, error: badRf };
    const load = this.load();
    const overBudget = replicasPerBrokerMax === undefined ? null : this.replicaBudgetExceeded(load, partitions * rf, replicasPerBrokerMax);
    if (overBudget !== null) return adminError('INVALID_PARTITIONS', `${what} x ${rf} replicas: ${overBudget}`);
    return ok(placePartitions(eligible, load, partitions, rf));
  }

  /** Records partitions `first`, `first + 1`, ... of a topic on these replicas; returns their new groups. */
  private newPartitions(topic: string, first: number, assignment: readonly NodeId[][]): GroupId[] {
    return assignment.map((replicas, k) => {
      const group = this.nextGroup++;
      this.partitions.set(group, { topic, partition: first + k, group, initialReplicas: [...replicas], replicas, target: null, leader: 0 as NodeId, leaderTerm: 0 });
      return group;
    });
  }

  /** Grows a topic to `total` partitions, placed as at creation (as Kafka's CreatePartitions: never shrinks). */
  private addPartitions(name: string, total: number, replicasPerBrokerMax: number | undefined): ApplyResult {
    const t = this.topics.get(name);
    if (t === undefined) return adminError('UNKNOWN_TOPIC', `topic "${name}" does not exist`);
    const invalid = validatePartitions(total);
    if (invalid !== null) return { ok: false, error: invalid };
    const have = t.groups.length;
    if (total <= have) return adminError('INVALID_PARTITIONS', `topic "${name}" has ${have} partition${have === 1 ? '' : 's'}; the count can only grow, not to ${total}`);
    const placed = this.placeNew(total - have, t.replicationFactor, replicasPerBrokerMax, `${total - have} more partitions`);
    if (!placed.ok) return placed;
    const groups = this.newPartitions(name, have, placed.value);
    this.topics.set(name, { ...t, groups: [...t.groups, ...groups] });
    this.changed();
    return ok(this.describeTopic(name));
  }

  private collidingTopic(name: string): string | undefined {
    const key = topicNameCollisionKey(name);
    for (const existing of this.topics.keys()) if (topicNameCollisionKey(existing) === key) return existing;
    return undefined;
  }

  /** Why `more` partition replicas on top of `load` would take the cluster past `perBrokerMax` per registered broker, or null. */
  private replicaBudgetExceeded(load: ReadonlyMap<NodeId, BrokerLoad>, more: number, perBrokerMax: number): string | null {
    const brokers = [...this.brokers.values()].filter((b) => !b.decommissioned).length;
    let replicas = more;
    for (const l of load.values()) replicas += l.replicas;
    const budget = brokers * perBrokerMax;
    if (replicas <= budget) return null;
    return `the cluster would hold ${replicas} partition replicas; ${brokers} broker${brokers === 1 ? '' : 's'} take at most ${budget} (${perBrokerMax} each)`;
  }

  private deleteTopic(name: string): ApplyResult {
    const t = this.topics.get(name);
    if (t === undefined) return adminError('UNKNOWN_TOPIC', `topic "${name}" does not exist`);
    for (const g of t.groups) this.partitions.delete(g);
    this.topics.delete(name);
    this.groups.dropTopic(name);
    this.changed();
    return ok({ deleted: name });
  }

  /**
   * Sets some configs of a topic and others back to their defaults, validated as at creation; partitions
   * read them from the image at use.
   */
  private alterTopicConfigs(name: string, configs: Readonly<Record<string, unknown>>, deleteConfigs: readonly string[]): ApplyResult {
    const t = this.topics.get(name);
    if (t === undefined) return adminError('UNKNOWN_TOPIC', `topic "${name}" does not exist`);
    for (const key of deleteConfigs) {
      const unknown = unknownConfig(key);
      if (unknown !== null) return { ok: false, error: unknown };
      if (Object.hasOwn(configs, key)) return adminError('INVALID_CONFIG', `config ${key} is both set and deleted`);
    }
    // Left out, a config resolves to its default.
    const kept = Object.fromEntries(Object.entries(t.configs).filter(([key]) => !deleteConfigs.includes(key)));
    const cfg = resolveTopicConfig({ ...kept, ...configs }, t.replicationFactor);
    if (!cfg.ok) return cfg;
    this.topics.set(name, { ...t, configs: cfg.value });
    this.changed();
    return ok(this.describeTopic(name));
  }

  /** Marks the broker decommissioned and plans a new home for each of its replicas. */
  private decommission(id: NodeId): ApplyResult {
    const b = this.brokers.get(id);
    if (b === undefined) return adminError('BROKER_NOT_AVAILABLE', `broker ${id} is not registered`);
    let touched = !b.decommissioned;
    b.decommissioned = true;
    let moving = 0;
    let stuck = 0;
    for (const p of [...this.partitions.values()].sort((x, y) => x.group - y.group)) {
      const current = p.target ?? p.replicas;
      if (!current.includes(id)) continue;
      const to = replacementFor(current, id, this.eligibleBrokers(), this.load());
      if (to === undefined) {
        stuck++;
        continue;
      }
      p.target = current.map((r) => (r === id ? to : r));
      moving++;
      touched = true;
    }
    // A repeated decommission that moves nothing changes nothing: no new version.
    if (touched) this.changed();
    return ok({ moving, stuck });
  }

  // ---- reads (the local image) ----------------------------------------------------------------

  listTopics(): string[] {
    return [...this.topics.keys()].sort();
  }

  describeTopic(name: string): TopicDescription | undefined {
    const t = this.topics.get(name);
    if (t === undefined) return undefined;
    const partitions = t.groups.map((g) => {
      const p = this.partitions.get(g) as PartitionRecord;
      const offline = p.replicas.filter((r) => this.brokers.get(r)?.fenced !== false);
      // A leader whose broker is offline leads nothing: none (0) until a live replica reports it leads, as
      // Kafka shows -1, so that clients do not send their first attempt to a dead node.
      const leader = offline.includes(p.leader) ? (0 as NodeId) : p.leader;
      return { partition: p.partition, group: g, replicas: [...p.replicas], leader, offline, ...(p.target !== null ? { reassigningTo: [...p.target] } : {}) };
    });
    return { name, id: t.id, replicationFactor: t.replicationFactor, configs: t.configs, partitions };
  }

  /** A group's committed offsets of a topic; undefined if the topic does not exist. */
  committedOffsets(group: string, topic: string): PartitionOffset[] | undefined {
    return this.topics.has(topic) ? this.groupOffsets.committed(group, topic) : undefined;
  }

  /** Consumer groups with committed offsets or members, in name order. */
  groupIds(): string[] {
    return this.groups.groupIds();
  }

  /** Everything a consumer group committed, by topic, and its members. */
  describeGroup(group: string): GroupDescription {
    return this.groups.describe(group);
  }

  /** What a heartbeat reporting exactly what the member owns answers, if it changes nothing (the leader then writes nothing). */
  steadyMember(group: string, memberId: string, topic: string, topicId: number, owned: readonly number[]): MemberAssignment | undefined {
    return this.groups.steadyMember(group, memberId, topic, topicId, owned);
  }

  /** Partitions with a replica on `node` now or once a reassignment completes. */
  partitionsOn(node: NodeId): PartitionRecord[] {
    return [...this.partitions.values()].filter((p) => p.replicas.includes(node) || (p.target?.includes(node) ?? false));
  }

  // ---- snapshots ------------------------------------------------------------------------------

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({
      version: this.version,
      digest: this.digest,
      brokers: [...this.brokers.values()],
      topics: [...this.topics.values()],
      partitions: [...this.partitions.values()],
      requests: [...this.requests],
      nextGroup: this.nextGroup,
      nextTopicId: this.nextTopicId,
      nextProducerId: this.nextProducerId,
      groupOffsets: this.groupOffsets.rows(),
      groupOffsetChanges: this.groupOffsets.changeRows(),
      groupMembers: this.groupMembers.rows(),
    }));
  }

  restore(data: Uint8Array, index: Index): void {
    const d = JSON.parse(new TextDecoder().decode(data)) as {
      version: number; digest: number; brokers: BrokerRecord[]; topics: TopicRecord[]; partitions: PartitionRecord[];
      requests: [string, RememberedRequest][]; nextGroup: number; nextTopicId: number; nextProducerId: number;
      /** Absent in snapshots taken before consumer groups. */
      groupOffsets?: OffsetRow[];
      /** Absent in snapshots taken before group membership and expiry. */
      groupMembers?: MemberRow[];
      groupOffsetChanges?: [string, number][];
    };
    this.version = d.version;
    this.digest = d.digest;
    this.appliedIndex = index;
    this.brokers.clear();
    for (const b of d.brokers) this.brokers.set(b.id, b);
    this.topics.clear();
    for (const t of d.topics) this.topics.set(t.name, t);
    this.partitions.clear();
    for (const p of d.partitions) this.partitions.set(p.group, p);
    this.requests.clear();
    for (const [k, v] of d.requests) this.requests.set(k, v);
    this.nextGroup = d.nextGroup;
    this.nextTopicId = d.nextTopicId;
    this.nextProducerId = d.nextProducerId;
    this.groupOffsets.restore(d.groupOffsets ?? [], d.groupOffsetChanges ?? []);
    this.groupMembers.restore(d.groupMembers ?? []);
  }
}

function sameSet(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
