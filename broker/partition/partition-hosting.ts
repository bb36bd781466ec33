// Which partition groups this node hosts, following the metadata log: a replica is created when the
// metadata assigns the partition to this node and removed when the topic is deleted or the replica moves
// away. Removal is destructive, so it happens only when the metadata positively says so and the local
// image has caught up with the controller (after a restart the image may lag the groups found on disk).
import type { MetadataState, PartitionRecord } from '../../controller/metadata.ts';
import type { NodeId } from '../../raft/types.ts';
import type { NodeHost } from '../node-host.ts';
import { CONTROLLER_GROUP, type GroupId } from '../ports.ts';
import { dropGroupOps } from '../storage-codec.ts';

/**
 * Ticks a new partition's preferred replica waits before its early campaign: enough for the commit of
 * the topic's creation to reach the other replicas (the controller leader sends it at once) and for
 * them to create the group.
 */
const NEW_GROUP_CAMPAIGN_DELAY_TICKS = 2;

const tombstoneKey = (g: GroupId): string => `t/${g.toString(16).padStart(8, '0')}`;

export class PartitionHosting {
  /** Groups this node hosted once and removed: a later re-add joins empty instead of bootstrapping. */
  private readonly tombstones = new Set<GroupId>();

  constructor(
    private readonly nodeId: NodeId,
    private readonly host: NodeHost,
    private readonly metadata: MetadataState,
    /** True when the local metadata image has applied everything the controller leader has committed. */
    private readonly metadataCaughtUp: () => boolean,
  ) {}

  /** Reads the tombstones a node persisted (called once, with the records loaded at start). */
  loadTombstones(records: ReadonlyMap<string, Uint8Array>): void {
    for (const key of records.keys()) {
      if (!key.startsWith('t/')) continue;
      const g = Number.parseInt(key.slice(2), 16);
      if (Number.isSafeInteger(g)) this.tombstones.add(g);
    }
  }

  /** Brings the hosted replicas in line with the metadata. */
  sync(): void {
    const wanted = new Map<GroupId, PartitionRecord>();
    for (const p of this.metadata.partitionsOn(this.nodeId)) wanted.set(p.group, p);
    for (const [group, p] of wanted) {
      if (this.host.replica(group) !== undefined || this.host.steppedAside.has(group)) continue;
      this.addReplica(group, p);
    }
    if (!this.metadataCaughtUp()) return;
    for (const group of [...this.host.driver.replicas.keys()]) {
      if (group === CONTROLLER_GROUP || wanted.has(group)) continue;
      // Unknown to the metadata and newer than anything it allocated: the image is behind, keep it.
      if (group >= this.metadata.nextGroupId) continue;
      this.removeReplica(group);
    }
  }

  private addReplica(group: GroupId, p: PartitionRecord): void {
    if (group < this.host.replacedGroupsBelow && p.replicas.length === 1) {
      // Its only replica was on this node's replaced disk: the records are gone. Created anew it would
      // start again at offset 0 under the same name, a silent loss; it steps aside instead, as a corrupt one.
      this.host.stepAside(group, 'the only replica was on a replaced disk: its records are lost', { topic: p.topic, partition: p.partition });
      return;
    }
    if (p.initialReplicas.includes(this.nodeId) && !this.tombstones.has(group)) {
      // One of the partition's first replicas: every one of them bootstraps the same snapshot. The
      // preferred one (first of the list) stands for election early, so the partition is soon writable.
      const replica = this.host.createGroup(group, p.initialReplicas);
      if (p.initialReplicas[0] === this.nodeId) replica.campaignSoon(NEW_GROUP_CAMPAIGN_DELAY_TICKS);
      return;
    }
    // Added later (reassignment), or re-added after being moved away: start empty; the leader adds this
    // node as a learner and catches it up.
    if (this.tombstones.delete(group)) this.host.driver.queueWrite([{ type: 'del', key: tombstoneKey(group) }]);
    this.host.joinGroup(group);
  }

  private removeReplica(group: GroupId): void {
    this.tombstones.add(group);
    this.host.driver.removeReplica(group, [...dropGroupOps(group), { type: 'put', key: tombstoneKey(group), value: new Uint8Array([1]) }]);
  }
}
