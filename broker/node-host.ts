// A node's Raft groups on top of its ports: recovery from disk at start, first-start bootstrap, and the
// driver that runs them. The controller and partitions build on this; the simulator drives it directly.
import { RAFT_DEFAULTS, type RaftOptions } from '../raft/config.ts';
import { MemoryStorage } from '../raft/storage.ts';
import type { ConfState, Index, NodeId, Term } from '../raft/types.ts';
import { fencesOp, readReplacement, type NodePlantedBugs } from './disk-identity.ts';
import { Driver } from './driver.ts';
import type { GroupObserver } from './observer.ts';
import type { GroupId, Ports, StorageError, WriteOp } from './ports.ts';
import { recoverGroups } from './recovery.ts';
import { Replica, type ReplicaOptions, type StateMachine } from './replica.ts';
import { encodeSnapshot, groupPrefix, groupPrefixEnd, snapshotKey } from './storage-codec.ts';

/** Raft settings a host may tune (everything but identity, storage and randomness). */
export type RaftTuning = Partial<Omit<RaftOptions, 'id' | 'storage' | 'rng' | 'logger'>>;

export interface NodeHostConfig {
  readonly nodeId: NodeId;
  readonly tickMs: number;
  readonly raft: RaftTuning;
  readonly replica: ReplicaOptions;
  /** Groups every node creates on its very first start, with identical initial membership. */
  readonly bootstrap: readonly { readonly group: GroupId; readonly voters: readonly NodeId[]; readonly learners?: readonly NodeId[] }[];
  readonly stateMachine: (group: GroupId) => StateMachine;
  /** Test-only switches. */
  readonly plantedBugs?: NodePlantedBugs;
}

export const DEFAULT_REPLICA_OPTIONS: ReplicaOptions = {
  snapshotEveryEntries: 10_000,
  entriesKeptAfterSnapshot: 1_000,
  requestTimeoutTicks: 100,
};

const INIT_KEY = 'n/init';
const encoder = new TextEncoder();

export class NodeHost {
  readonly driver: Driver;
  /** Groups whose stored state was corrupt and that cannot rejoin (or not yet): their replica does not run. */
  readonly steppedAside = new Map<GroupId, string>();
  /**
   * If this node's disk was replaced: its groups' fence terms (RaftConfig.voteFenceTerm), and the id
   * below which groups predate the replacement (disk-identity.ts). Empty and 0 otherwise.
   */
  fences = new Map<GroupId, Term>();
  replacedGroupsBelow: GroupId = 0;
  started = false;

  constructor(
    readonly config: NodeHostConfig,
    readonly ports: Ports,
    readonly observer: GroupObserver = {},
    onFatal: (err: StorageError) => void = () => {},
  ) {
    this.driver = new Driver(config.nodeId, ports, config.tickMs, onFatal);
  }

  get nodeId(): NodeId {
    return this.config.nodeId;
  }

  /**
   * Loads the disk, recovers every group, bootstraps on the very first start, and starts running. On a
   * disk that holds no groups yet, `admit` (if given) runs first, with the driver running but no group,
   * and calls `proceed` once the node may start its groups; `onStarted` does not wait for that (a node
   * waiting for its peers must still answer theirs, and callers may start nodes one after another).
   */
  start(onStarted: (records: ReadonlyMap<string, Uint8Array>) => void = () => {}, admit?: (records: ReadonlyMap<string, Uint8Array>, proceed: () => void) => void): void {
    this.ports.storage.load((records, err) => {
      if (err !== null) {
        this.ports.logger.error('cannot load storage', { code: err.code, message: err.message });
        return;
      }
      this.driver.peerLives.load(records);
      const replaced = readReplacement(records);
      this.fences = replaced.fences;
      this.replacedGroupsBelow = replaced.groupsBelow;
      const repairs = new Map<GroupId, { readonly fence: Term; readonly reason: string }>();
      for (const rec of recoverGroups(records).values()) {
        if (!rec.ok) {
          const fence = this.repairFence(rec);
          if (fence === undefined) this.stepAside(rec.group, `stored state is corrupt: ${rec.reason}`);
          else repairs.set(rec.group, { fence, reason: rec.reason });
          continue;
        }
        if (rec.repairedCopies > 0) this.ports.logger.warn('one hard-state copy was corrupt; used the other', { group: rec.group });
        this.addReplica(rec.group, rec.storage);
      }
      if (repairs.size > 0) this.repair(repairs);
      const fresh = !records.has(INIT_KEY);
      if (fresh && admit !== undefined) {
        this.driver.start();
        admit(records, () => {
          this.bootstrap();
          this.started = true;
        });
        onStarted(records);
        return;
      }
      if (fresh) this.bootstrap();
      this.started = true;
      this.driver.start();
      onStarted(records);
    });
  }

  /** The group's replica does not run on this node (its records are lost or untrustworthy). */
  stepAside(group: GroupId, reason: string, fields: Readonly<Record<string, unknown>> = {}): void {
    this.steppedAside.set(group, reason);
    this.ports.logger.error('group replica steps aside', { ...fields, group, reason });
    this.observer.stepAside?.(this.nodeId, group, reason);
  }

  /**
   * The fence under which a group whose stored state is corrupt can rejoin empty, or undefined if it
   * cannot. Its intact hard state says the replica voted and acknowledged in no term past the stored one,
   * so one past it fences off every leader that may count what it lost (as a replaced disk's fences do,
   * disk-identity.ts). Without the term, or without other voters to learn the log from (the snapshot
   * must say who they are), the replica steps aside.
   */
  private repairFence(rec: { readonly term?: Term; readonly voters?: readonly NodeId[] }): Term | undefined {
    if (rec.term === undefined || rec.voters === undefined || !rec.voters.some((v) => v !== this.nodeId)) return undefined;
    return (rec.term + 1) as Term;
  }

  /**
   * Rejoins corrupt groups empty: their records are deleted and their fences stored first (a crash
   * before the group caught up must not let it start unfenced), then each replica starts with an empty
   * log and is caught up by its leader (a snapshot, then appends).
   */
  private repair(repairs: ReadonlyMap<GroupId, { readonly fence: Term; readonly reason: string }>): void {
    const ops: WriteOp[] = [];
    for (const [group, { fence, reason }] of repairs) {
      // Held off (partition hosting leaves it alone) until its records are gone.
      this.steppedAside.set(group, `being repaired: ${reason}`);
      if (this.config.plantedBugs?.repairWithoutFence !== true) this.fences.set(group, Math.max(this.fences.get(group) ?? 0, fence) as Term);
      ops.push({ type: 'delRange', gte: groupPrefix(group), lt: groupPrefixEnd(group) });
      this.ports.logger.error('group replica rejoins empty: its stored state is corrupt', { group, reason, fenceTerm: fence });
    }
    ops.push(fencesOp(this.fences));
    this.driver.queueWrite(ops, () => {
      for (const group of repairs.keys()) {
        this.steppedAside.delete(group);
        this.addReplica(group, new MemoryStorage());
        this.observer.repaired?.(this.nodeId, group);
      }
    });
  }

  private bootstrap(): void {
    for (const { group, voters, learners } of this.config.bootstrap) {
      if (this.driver.replicas.has(group)) continue;
      this.createGroup(group, voters, learners ?? []);
    }
    this.driver.queueWrite([{ type: 'put', key: INIT_KEY, value: encoder.encode('1') }]);
  }

  /**
   * Creates a replica of a new group from its initial membership: a snapshot at index 1, identical on
   * every member, so their logs agree from the start. A replica added to an existing group instead
   * starts empty (no voters) and is caught up by the leader.
   */
  createGroup(group: GroupId, voters: readonly NodeId[], learners: readonly NodeId[] = []): Replica {
    const storage = new MemoryStorage();
    const sorted = (ids: readonly NodeId[]): NodeId[] => [...ids].sort((a, b) => a - b);
    const confState: ConfState = { voters: sorted(voters), learners: sorted(learners.filter((l) => !voters.includes(l))), votersOutgoing: [], learnersNext: [], autoLeave: false };
    const sm = this.config.stateMachine(group);
    const snap = { meta: { index: 1 as Index, term: 1 as Term, confState }, data: sm.snapshot() };
    storage.applySnapshot(snap);
    this.driver.queueWrite([{ type: 'put', key: snapshotKey(group), value: encodeSnapshot(snap) }]);
    return this.addReplica(group, storage, sm);
  }

  /** A replica that joins an existing group later: empty, it learns everything from the leader. */
  joinGroup(group: GroupId): Replica {
    return this.addReplica(group, new MemoryStorage());
  }

  private addReplica(group: GroupId, storage: MemoryStorage, sm: StateMachine = this.config.stateMachine(group)): Replica {
    const raft = { ...RAFT_DEFAULTS, ...this.config.raft, rng: this.ports.rng, voteFenceTerm: this.fences.get(group) ?? (0 as Term) };
    const replica = new Replica(this.nodeId, group, storage, sm, raft, this.config.replica, this.observer, () => this.driver.incarnation);
    this.driver.addReplica(replica);
    return replica;
  }

  replica(group: GroupId): Replica | undefined {
    return this.driver.replicas.get(group);
  }

  stop(): void {
    this.driver.stop();
  }
}
