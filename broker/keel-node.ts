// A Keel node: the composition the real runtime and the simulator both run. It hosts the controller
// replica (group 0: the metadata log) and, later, one replica per partition assigned to it; it accepts
// admin requests from clients and peers. Everything reaches the world through the ports.
import { isGroupOffsetsCommand, type Command } from '../controller/commands.ts';
import { adminError, type AdminResult } from '../controller/errors.ts';
import type { CommitOffsetsResult, PartitionOffset } from '../controller/group-offsets.ts';
import type { GroupDescription } from '../controller/consumer-groups.ts';
import { MetadataState, type TopicDescription } from '../controller/metadata.ts';
import { PARTITION_REPLICAS_PER_BROKER_MAX } from '../controller/topic-config.ts';
import type { NodeId } from '../raft/types.ts';
import { admissionAnswer, admit } from './admission.ts';
import { ControllerService, DEFAULT_CONTROLLER_OPTIONS, type Consistency, type ControllerServiceOptions, type Versioned } from './controller-service.ts';
import { ADMISSION_METHOD, INCARNATION_RANDOM_PARTS, replacementOps, startsOp, storedStarts, type NodePlantedBugs } from './disk-identity.ts';
import { DEFAULT_GROUP_COORDINATOR_OPTIONS, GroupCoordinator, type GroupCoordinatorOptions, type HeartbeatAnswer, type MemberHeartbeat } from './group-coordinator.ts';
import { DEFAULT_REPLICA_OPTIONS, NodeHost, type RaftTuning } from './node-host.ts';
import type { GroupObserver } from './observer.ts';
import { CONTROLLER_GROUP, type Frame, type Ports, type StorageError } from './ports.ts';
import type { Replica, ReplicaOptions, StateMachine } from './replica.ts';
import { PartitionDuties } from './partition/partition-duties.ts';
import { PartitionHosting } from './partition/partition-hosting.ts';
import { PartitionMachine, type PartitionPlantedBugs } from './partition/partition-machine.ts';
import { PartitionService, type FetchRequest, type FetchResponse, type OffsetSpec, type PResult, type ProduceRequest, type ProduceResponse } from './partition/partition-service.ts';

export interface KeelNodeConfig {
  readonly nodeId: NodeId;
  /** Address clients and peers are told to use for this node (host:port). */
  readonly advertisedAddress: string;
  /** Every broker of the cluster. */
  readonly brokers: readonly NodeId[];
  /** Voters of the controller quorum (default: every broker); other brokers follow it as learners. */
  readonly controllerVoters: readonly NodeId[];
  readonly tickMs: number;
  readonly raft: RaftTuning;
  readonly replica: ReplicaOptions;
  readonly controller: ControllerServiceOptions;
  /** Consumer-group sessions (default DEFAULT_GROUP_COORDINATOR_OPTIONS). */
  readonly groups?: GroupCoordinatorOptions;
  /** Test-only switches (planted bugs in the partition state machine). */
  readonly partitionBugs?: PartitionPlantedBugs;
  readonly nodeBugs?: NodePlantedBugs;
}

export function defaultNodeConfig(nodeId: NodeId, brokers: readonly NodeId[], advertisedAddress: string): KeelNodeConfig {
  return {
    nodeId,
    advertisedAddress,
    brokers,
    controllerVoters: brokers,
    tickMs: 50,
    raft: {},
    replica: { ...DEFAULT_REPLICA_OPTIONS, snapshotEveryEntries: 1_000, entriesKeptAfterSnapshot: 200 },
    controller: DEFAULT_CONTROLLER_OPTIONS,
  };
}

/** Observation hooks for the simulator's checkers (all optional). */
export interface KeelObserver extends GroupObserver {
  /** The node applied a metadata change: its version and the digest of the change sequence so far. */
  metadataChanged?(node: NodeId, version: number, digest: number, metadata: MetadataState, command: Command): void;
  /** A node on a new disk may start its groups; `fenced`: its disk was replaced (disk-identity.ts). */
  admitted?(node: NodeId, fenced: boolean): void;
}

export interface CreateTopicRequest {
  readonly requestId: string;
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs?: Readonly<Record<string, unknown>>;
}

/** Offsets as a metadata record holds them: only partition and offset, whatever else the caller's objects carry. */
function offsetRecords(offsets: readonly PartitionOffset[]): PartitionOffset[] {
  return offsets.map(({ partition, offset }) => ({ partition, offset }));
}

/** Leader duties and replica hosting run every this many ticks. */
const DUTY_EVERY_TICKS = 10;
/** A controlled shutdown waits at most this long for leaderships to move away. */
const SHUTDOWN_WAIT_MS = 10_000;

export class KeelNode {
  readonly host: NodeHost;
  readonly metadata = new MetadataState();
  readonly controller: ControllerService;
  readonly groups: GroupCoordinator;
  /** Process starts of this node, counted on disk. */
  starts = 0;
  /** This life's id (0 until storage is loaded): a restarted broker registers as a new incarnation, and peers address its RPCs by it. */
  get incarnation(): number {
    return this.host.driver.incarnation;
  }
  readonly partitions: PartitionService;
  private readonly machines = new Map<number, PartitionMachine>();
  private readonly hosting: PartitionHosting;
  private readonly duties: PartitionDuties;
  private ticks = 0;
  private hostingDirty = true;
  /** This start is a new disk's: its life begins once every peer has answered (admit). */
  private admitting = false;

  constructor(readonly config: KeelNodeConfig, readonly ports: Ports, readonly observer: KeelObserver = {}, onFatal: (err: StorageError) => void = () => {}) {
    const learners = config.brokers.filter((b) => !config.controllerVoters.includes(b));
    this.host = new NodeHost({
      nodeId: config.nodeId,
      tickMs: config.tickMs,
      raft: config.raft,
      replica: config.replica,
      bootstrap: [{ group: CONTROLLER_GROUP, voters: config.controllerVoters, learners }],
      stateMachine: (group) => this.stateMachineFor(group),
      ...(config.nodeBugs === undefined ? {} : { plantedBugs: config.nodeBugs }),
    }, ports, observer, onFatal);
    this.metadata.onChange = (c) => {
      if (!isGroupOffsetsCommand(c)) this.hostingDirty = true;
      else this.groups.changed(c);
      this.observer.metadataChanged?.(config.nodeId, this.metadata.version, this.metadata.digest, this.metadata, c);
    };
    this.controller = new ControllerService(config.nodeId, config.advertisedAddress, () => this.incarnation, () => this.host.replica(CONTROLLER_GROUP), this.metadata, this.host.driver, ports.clock, ports.logger, config.controller, config.brokers);
    this.metadata.groupMembers.handOverWithoutRelease = config.controller.plantedBugs?.handOverWithoutRelease === true;
    this.metadata.groups.commitsFromRemovedMembers = config.controller.plantedBugs?.commitsFromRemovedMembers === true;
    this.groups = new GroupCoordinator(this.controller, this.metadata, this.host.driver, ports.clock, ports.logger, config.groups ?? DEFAULT_GROUP_COORDINATOR_OPTIONS);
    this.partitions = new PartitionService({
      nodeId: config.nodeId,
      metadata: this.metadata,
      clock: ports.clock,
      replica: (g) => this.host.replica(g),
      machine: (g) => (this.host.replica(g) === undefined ? undefined : this.machines.get(g)),
      guessOffsetsAtAppend: config.partitionBugs?.offsetsAtAppend === true,
      metadataAvailable: () => this.host.replica(CONTROLLER_GROUP) !== undefined,
    });
    this.hosting = new PartitionHosting(config.nodeId, this.host, this.metadata, () => this.metadataCaughtUp());
    this.duties = new PartitionDuties({
      nodeId: config.nodeId,
      metadata: this.metadata,
      controller: this.controller,
      clock: ports.clock,
      logger: ports.logger,
      replicas: this.host.driver.replicas,
      partitions: () => this.hostedPartitions(),
    });
    this.host.driver.onTick(() => this.onTick());
    this.host.driver.handle(ADMISSION_METHOD, (from, _body, reply) => reply(admissionAnswer(this.host.driver, from, this.metadata.nextGroupId)));
  }

  private stateMachineFor(group: number): StateMachine {
    if (group === CONTROLLER_GROUP) return this.metadata;
    const m = new PartitionMachine(this.config.partitionBugs ?? {});
    m.onAppend = () => this.partitions.appended(group);
    this.machines.set(group, m);
    return m;
  }

  private *hostedPartitions(): Iterable<{ group: number; replica: Replica; machine: PartitionMachine }> {
    for (const [group, replica] of this.host.driver.replicas) {
      const machine = this.machines.get(group);
      if (group !== CONTROLLER_GROUP && machine !== undefined) yield { group, replica, machine };
    }
  }

  /** The local metadata image has applied everything its controller leader has committed. */
  private metadataCaughtUp(): boolean {
    const r = this.host.replica(CONTROLLER_GROUP);
    return r !== undefined && r.leader !== 0 && r.appliedIndex >= r.raw.raft.log.committed;
  }

  private onTick(): void {
    this.ticks++;
    if (this.hostingDirty || this.ticks % DUTY_EVERY_TICKS === 0) {
      this.hostingDirty = false;
      this.hosting.sync();
    }
    if (this.host.replica(CONTROLLER_GROUP) !== undefined) this.duties.reportLeaders();
    if (this.ticks % DUTY_EVERY_TICKS !== 0) return;
    // Without a metadata image (the controller replica stepped aside) this node cannot serve its
    // partitions: it hands their leadership to other replicas instead of holding them hostage.
    if (this.host.replica(CONTROLLER_GROUP) === undefined && this.host.started) this.duties.handOffAll();
    else this.duties.run();
  }

  start(onStarted: () => void = () => {}): void {
    this.host.start((records) => {
      this.hosting.loadTombstones(records);
      // A disk with groups begins its life at once; a new disk begins it in admission, before its groups.
      if (!this.admitting) {
        this.beginLife(storedStarts(records) + 1);
        this.host.driver.queueWrite([startsOp(this.starts)]);
      }
      onStarted();
    }, (records, proceed) => {
      this.admitting = true;
      this.admit(records, proceed);
    });
  }

  /**
   * A new disk's first start: no group runs until every peer has said whether it knew this node (a
   * replaced disk's groups then start fenced), and frames carry this life only once its start count is
   * on disk, so a peer never records a life this disk could forget (disk-identity.ts).
   */
  private admit(records: ReadonlyMap<string, Uint8Array>, proceed: () => void): void {
    const stored = storedStarts(records);
    const peers = this.config.brokers.filter((b) => b !== this.config.nodeId);
    admit({ driver: this.host.driver, clock: this.ports.clock, logger: this.ports.logger, peers, storedStarts: stored }, (found) => {
      const replaced = this.config.nodeBugs?.rejoinWithoutFence === true ? null : found;
      if (replaced !== null) {
        this.host.fences = replaced.fences;
        this.host.replacedGroupsBelow = replaced.groupsBelow;
      }
      this.host.driver.queueWrite([startsOp(stored + 1), ...(replaced === null ? [] : replacementOps(replaced))], () => {
        this.beginLife(stored + 1);
        this.observer.admitted?.(this.config.nodeId, replaced !== null);
        proceed();
      });
    });
  }

  private beginLife(starts: number): void {
    this.starts = starts;
    // The count alone could repeat: a crash can lose its write (the node is already talking by then),
    // and a replaced disk counts from 1 again. The random part keeps two lives apart all the same.
    this.host.driver.incarnation = this.starts * INCARNATION_RANDOM_PARTS + this.ports.rng.nextInt(INCARNATION_RANDOM_PARTS);
  }

  stop(): void {
    this.host.stop();
  }

  receive(frame: Frame): void {
    this.host.driver.receive(frame);
  }

  get writeInFlight(): boolean {
    return this.host.driver.writeInFlight;
  }

  // ---- admin API --------------------------------------------------------------------------------

  createTopic(req: CreateTopicRequest, done: (r: AdminResult<TopicDescription>) => void): void {
    this.writeRequest({
      type: 'create-topic', requestId: req.requestId, name: req.name, partitions: req.partitions, replicationFactor: req.replicationFactor, configs: req.configs ?? {},
      replicasPerBrokerMax: PARTITION_REPLICAS_PER_BROKER_MAX,
    }, done);
  }

  deleteTopic(req: { readonly requestId: string; readonly name: string }, done: (r: AdminResult<{ deleted: string }>) => void): void {
    this.writeRequest({ type: 'delete-topic', requestId: req.requestId, name: req.name }, done);
  }

  /** Grows a topic to `partitions` partitions. */
  createPartitions(req: { readonly requestId: string; readonly name: string; readonly partitions: number }, done: (r: AdminResult<TopicDescription>) => void): void {
    this.writeRequest({ type: 'add-partitions', requestId: req.requestId, name: req.name, partitions: req.partitions, replicasPerBrokerMax: PARTITION_REPLICAS_PER_BROKER_MAX }, done);
  }

  /** Sets some configs of a topic and `deleteConfigs` back to their defaults; the others keep their values. */
  alterTopicConfigs(req: { readonly requestId: string; readonly name: string; readonly configs: Readonly<Record<string, unknown>>; readonly deleteConfigs?: readonly string[] }, done: (r: AdminResult<TopicDescription>) => void): void {
    const deleteConfigs = req.deleteConfigs ?? [];
    this.writeRequest({ type: 'alter-topic-configs', requestId: req.requestId, name: req.name, configs: req.configs, ...(deleteConfigs.length > 0 ? { deleteConfigs } : {}) }, done);
  }

  /** Writes an admin command that must carry a request id (its retries are applied once, by that id). */
  private writeRequest<T>(c: Extract<Command, { readonly requestId: string }>, done: (r: AdminResult<T>) => void): void {
    if (typeof c.requestId !== 'string' || c.requestId === '') return done(adminError('INVALID_REQUEST', 'a request id is required'));
    this.controller.write(c, (r) => done(r as AdminResult<T>));
  }

  listTopics(consistency: Consistency, done: (r: AdminResult<Versioned<string[]>>) => void): void {
    this.controller.listTopics(consistency, done);
  }

  describeTopic(name: string, consistency: Consistency, done: (r: AdminResult<Versioned<TopicDescription>>) => void): void {
    this.controller.describeTopic(name, consistency, done);
  }

  /**
   * Commits a consumer group's offsets (the next offset to read, per partition); they only move forward.
   * `memberId`: the committing member, which must own the partitions (absent: the group must have no members).
   */
  commitOffsets(req: { readonly group: string; readonly topic: string; readonly topicId: number; readonly offsets: readonly PartitionOffset[]; readonly memberId?: string }, done: (r: AdminResult<CommitOffsetsResult>) => void): void {
    const member = req.memberId === undefined || req.memberId === '' ? {} : { memberId: req.memberId };
    this.controller.write({ type: 'commit-offsets', consumerGroup: req.group, topic: req.topic, topicId: req.topicId, offsets: offsetRecords(req.offsets), ...member }, (r) => done(r as AdminResult<CommitOffsetsResult>));
  }

  /** A consumer-group member's heartbeat (joining, reporting what it reads, or leaving): what it may read now. */
  memberHeartbeat(req: MemberHeartbeat, done: (r: AdminResult<HeartbeatAnswer>) => void): void {
    this.groups.heartbeat(req, done);
  }

  /**
   * Moves a consumer group's offsets to exactly these, backwards too (an operator's reset; the group's
   * consumers should be stopped, or their next commits move the offsets forward again).
   */
  resetOffsets(req: { readonly requestId: string; readonly group: string; readonly topic: string; readonly topicId: number; readonly offsets: readonly PartitionOffset[] }, done: (r: AdminResult<CommitOffsetsResult>) => void): void {
    this.controller.write({ type: 'reset-offsets', requestId: req.requestId, consumerGroup: req.group, topic: req.topic, topicId: req.topicId, offsets: offsetRecords(req.offsets) }, (r) => done(r as AdminResult<CommitOffsetsResult>));
  }

  /** Forgets everything a consumer group committed; `deleted` false if it had committed nothing. */
  deleteGroup(req: { readonly requestId: string; readonly group: string }, done: (r: AdminResult<{ deleted: boolean }>) => void): void {
    this.controller.write({ type: 'delete-group', requestId: req.requestId, consumerGroup: req.group }, (r) => done(r as AdminResult<{ deleted: boolean }>));
  }

  /** A consumer group's committed offsets of a topic (partitions it never committed are absent). */
  committedOffsets(group: string, topic: string, consistency: Consistency, done: (r: AdminResult<Versioned<PartitionOffset[]>>) => void): void {
    this.controller.committedOffsets(group, topic, consistency, done);
  }

  /** Consumer groups with committed offsets or members, in name order. */
  listGroups(consistency: Consistency, done: (r: AdminResult<Versioned<string[]>>) => void): void {
    this.controller.listGroups(consistency, done);
  }

  /** Everything a consumer group committed, by topic, and its members. */
  describeGroup(group: string, consistency: Consistency, done: (r: AdminResult<Versioned<GroupDescription>>) => void): void {
    this.controller.describeGroup(group, consistency, done);
  }

  decommissionBroker(req: { readonly requestId: string; readonly broker: NodeId }, done: (r: AdminResult<unknown>) => void): void {
    this.controller.write({ type: 'decommission-broker', requestId: req.requestId, broker: req.broker }, done);
  }

  // ---- partitions -------------------------------------------------------------------------------

  /** The state machine of a partition group hosted here (tests and the simulator's checkers). */
  partitionMachine(group: number): PartitionMachine | undefined {
    return this.host.replica(group) === undefined ? undefined : this.machines.get(group);
  }

  produce(req: ProduceRequest, done: (r: PResult<ProduceResponse>) => void): void {
    this.partitions.produce(req, done);
  }

  fetch(req: FetchRequest, done: (r: PResult<FetchResponse>) => void): void {
    this.partitions.fetch(req, done);
  }

  listOffsets(req: { readonly topic: string; readonly partition: number; readonly spec: OffsetSpec }, done: (r: PResult<{ offset: number; logStartOffset: number; highWatermark: number }>) => void): void {
    this.partitions.listOffsets(req, done);
  }

  /** Allocates an idempotent producer id (through the controller). */
  initProducerId(req: { readonly requestId: string }, done: (r: AdminResult<{ producerId: number; producerEpoch: number }>) => void): void {
    this.writeRequest({ type: 'init-producer-id', requestId: req.requestId }, done);
  }

  /**
   * Controlled shutdown: the broker tells the controller (no new replicas come its way), moves the
   * leadership of every partition it leads to another replica, and answers once it leads none (or the
   * wait ran out), at which point the process may stop without an election gap.
   */
  shutdown(done: (r: AdminResult<{ stillLeading: number }>) => void): void {
    this.controller.write({ type: 'shutdown-broker', broker: this.config.nodeId, epoch: this.controller.epoch }, (r) => {
      if (!r.ok) return done(r);
      const deadline = this.ports.clock.now() + SHUTDOWN_WAIT_MS;
      const poll = (): void => {
        const leading = this.duties.leading().length;
        if (leading === 0 || this.ports.clock.now() >= deadline) return done({ ok: true, value: { stillLeading: leading } });
        this.ports.clock.setTimer(this.config.tickMs * DUTY_EVERY_TICKS, poll);
      };
      poll();
    });
  }

  /** Ready = the controller quorum has a leader, this broker is registered and unfenced, metadata caught up. */
  readiness(): { ready: boolean; reason: string } {
    const leader = this.controller.leader();
    if (leader === 0) return { ready: false, reason: 'no controller leader yet' };
    if (this.controller.epoch === 0) return { ready: false, reason: 'not registered with the controller yet' };
    const me = this.metadata.brokers.get(this.config.nodeId);
    if (me === undefined || me.epoch !== this.controller.epoch) return { ready: false, reason: 'registration not applied locally yet' };
    if (me.fenced) return { ready: false, reason: 'fenced (waiting for the controller to see a heartbeat)' };
    let behindFence = 0;
    for (const r of this.host.driver.replicas.values()) if (r.raw.raft.fenced()) behindFence++;
    // A replaced disk's groups count in no election until caught up: another node down meanwhile would stall them.
    if (behindFence > 0) return { ready: false, reason: `rejoining on a replaced disk: ${behindFence} groups not caught up yet` };
    return { ready: true, reason: 'ready' };
  }
}
