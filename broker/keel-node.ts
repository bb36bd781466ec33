// A Keel node: the composition the real runtime and the simulator both run. It hosts the controller
// replica (group 0: the metadata log) and, later, one replica per partition assigned to it; it accepts
// admin requests from clients and peers. Everything reaches the world through the ports.
import type { Command } from '../controller/commands.ts';
import { adminError, type AdminResult } from '../controller/errors.ts';
import { MetadataState, type TopicDescription } from '../controller/metadata.ts';
import type { NodeId } from '../raft/types.ts';
import { ControllerService, DEFAULT_CONTROLLER_OPTIONS, type Consistency, type ControllerServiceOptions, type Versioned } from './controller-service.ts';
import { DEFAULT_REPLICA_OPTIONS, NodeHost, type RaftTuning } from './node-host.ts';
import type { GroupObserver } from './observer.ts';
import { CONTROLLER_GROUP, type Frame, type Ports, type StorageError } from './ports.ts';
import type { ReplicaOptions, StateMachine } from './replica.ts';

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
}

export interface CreateTopicRequest {
  readonly requestId: string;
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs?: Readonly<Record<string, unknown>>;
}

const INCARNATION_KEY = 'n/incarnation';

export class KeelNode {
  readonly host: NodeHost;
  readonly metadata = new MetadataState();
  readonly controller: ControllerService;
  /** Counts process starts (persisted): a restarted broker registers as a new incarnation. */
  incarnation = 0;

  constructor(readonly config: KeelNodeConfig, readonly ports: Ports, readonly observer: KeelObserver = {}, onFatal: (err: StorageError) => void = () => {}) {
    const learners = config.brokers.filter((b) => !config.controllerVoters.includes(b));
    this.host = new NodeHost({
      nodeId: config.nodeId,
      tickMs: config.tickMs,
      raft: config.raft,
      replica: config.replica,
      bootstrap: [{ group: CONTROLLER_GROUP, voters: config.controllerVoters, learners }],
      stateMachine: (group) => this.stateMachineFor(group),
    }, ports, observer, onFatal);
    this.metadata.onChange = (c) => this.observer.metadataChanged?.(config.nodeId, this.metadata.version, this.metadata.digest, this.metadata, c);
    this.controller = new ControllerService(config.nodeId, config.advertisedAddress, () => this.incarnation, () => this.host.replica(CONTROLLER_GROUP), this.metadata, this.host.driver, ports.clock, ports.logger, config.controller, config.brokers);
  }

  private stateMachineFor(group: number): StateMachine {
    if (group === CONTROLLER_GROUP) return this.metadata;
    throw new Error(`no state machine for group ${group}`);
  }

  start(onStarted: () => void = () => {}): void {
    this.host.start((records) => {
      const prev = records.get(INCARNATION_KEY);
      this.incarnation = (prev === undefined ? 0 : Number(new TextDecoder().decode(prev)) || 0) + 1;
      this.host.driver.queueWrite([{ type: 'put', key: INCARNATION_KEY, value: new TextEncoder().encode(String(this.incarnation)) }]);
      onStarted();
    });
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
    if (typeof req.requestId !== 'string' || req.requestId === '') return done(adminError('INVALID_REQUEST', 'a request id is required'));
    this.controller.write({ type: 'create-topic', requestId: req.requestId, name: req.name, partitions: req.partitions, replicationFactor: req.replicationFactor, configs: req.configs ?? {} }, (r) => done(r as AdminResult<TopicDescription>));
  }

  deleteTopic(req: { readonly requestId: string; readonly name: string }, done: (r: AdminResult<{ deleted: string }>) => void): void {
    if (typeof req.requestId !== 'string' || req.requestId === '') return done(adminError('INVALID_REQUEST', 'a request id is required'));
    this.controller.write({ type: 'delete-topic', requestId: req.requestId, name: req.name }, (r) => done(r as AdminResult<{ deleted: string }>));
  }

  listTopics(consistency: Consistency, done: (r: AdminResult<Versioned<string[]>>) => void): void {
    this.controller.listTopics(consistency, done);
  }

  describeTopic(name: string, consistency: Consistency, done: (r: AdminResult<Versioned<TopicDescription>>) => void): void {
    this.controller.describeTopic(name, consistency, done);
  }

  decommissionBroker(req: { readonly requestId: string; readonly broker: NodeId }, done: (r: AdminResult<unknown>) => void): void {
    this.controller.write({ type: 'decommission-broker', requestId: req.requestId, broker: req.broker }, done);
  }

  /** Ready = the controller quorum has a leader, this broker is registered and unfenced, metadata caught up. */
  readiness(): { ready: boolean; reason: string } {
    const leader = this.controller.leader();
    if (leader === 0) return { ready: false, reason: 'no controller leader yet' };
    if (this.controller.epoch === 0) return { ready: false, reason: 'not registered with the controller yet' };
    const me = this.metadata.brokers.get(this.config.nodeId);
    if (me === undefined || me.epoch !== this.controller.epoch) return { ready: false, reason: 'registration not applied locally yet' };
    if (me.fenced) return { ready: false, reason: 'fenced (waiting for the controller to see a heartbeat)' };
    return { ready: true, reason: 'ready' };
  }
}
