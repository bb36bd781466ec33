// Metadata invariants, checked on every change every node applies:
//   one history     the versions applied by every node are a prefix of one sequence (equal version,
//                   equal digest of everything applied so far, results included — so a
//                   nondeterministic apply, placement say, shows up as divergence)
//   fencing         a fenced, shutting-down or decommissioned broker is never given new replicas
//   placement       no broker holds two replicas of a partition; a partition has exactly its topic's
//                   replication factor; a new topic (or new partitions of one) never widens the
//                   replica-count spread beyond 1
import type { Command } from '../../controller/commands.ts';
import type { MetadataState, TopicDescription } from '../../controller/metadata.ts';
import type { NodeId } from '../../raft/types.ts';
import type { Violation } from './raft-checker.ts';

export class MetadataChecker {
  readonly violations: Violation[] = [];
  private readonly digests = new Map<number, number>();
  /** Per node: the metadata version of its last change (the state `spread` and `targets` describe). */
  private readonly lastVersion = new Map<NodeId, number>();
  /** Per node: the replica-count spread among eligible brokers after its last change. */
  private readonly spread = new Map<NodeId, number>();
  /** Per node: each group's reassignment target after its last change (a broker already there is not new). */
  private readonly targets = new Map<NodeId, Map<number, readonly NodeId[]>>();
  /** Per node: the next group id after its last change (groups from it on were created by this change). */
  private readonly nextGroupIds = new Map<NodeId, number>();
  maxVersion = 0;
  changes = 0;

  constructor(private readonly now: () => number) {}

  fail(checker: string, message: string): void {
    if (this.violations.length < 20) this.violations.push({ checker, message, atMs: this.now() });
  }

  metadataChanged(node: NodeId, version: number, digest: number, m: MetadataState, c: Command): void {
    this.changes++;
    const known = this.digests.get(version);
    if (known === undefined) this.digests.set(version, digest);
    else if (known !== digest) this.fail('metadata-one-history', `node ${node} applied metadata version ${version} with a different history than another node`);
    if (version > this.maxVersion) this.maxVersion = version;
    this.checkPlacement(node, version, m, c);
  }

  private eligibleSpread(m: MetadataState): number {
    const eligible = m.eligibleBrokers();
    if (eligible.length === 0) return 0;
    const load = m.load();
    const counts = eligible.map((b) => load.get(b)?.replicas ?? 0);
    return Math.max(...counts) - Math.min(...counts);
  }

  private checkPlacement(node: NodeId, version: number, m: MetadataState, c: Command): void {
    for (const p of m.partitions.values()) {
      const t = m.topics.get(p.topic);
      for (const set of [p.replicas, ...(p.target !== null ? [p.target] : [])]) {
        if (new Set(set).size !== set.length) this.fail('placement', `partition ${p.topic}/${p.partition} lists a broker twice: ${set.join(',')}`);
        if (t !== undefined && set.length !== t.replicationFactor) this.fail('placement', `partition ${p.topic}/${p.partition} has ${set.length} replicas, its topic's factor is ${t.replicationFactor}`);
      }
    }
    // What this node held just before this change, if its last change was the one before it. A restarted
    // node replays its log from its snapshot, and one that installed a snapshot jumps ahead: then the
    // last change seen is not this one's predecessor, and the checks that compare with it are skipped.
    const follows = this.lastVersion.get(node) === version - 1;
    this.lastVersion.set(node, version);
    const before = follows ? this.spread.get(node) : undefined;
    const after = this.eligibleSpread(m);
    this.spread.set(node, after);
    const targetsBefore = follows ? this.targets.get(node) : undefined;
    const targetsNow = new Map<number, readonly NodeId[]>();
    for (const p of m.partitions.values()) if (p.target !== null) targetsNow.set(p.group, [...p.target]);
    this.targets.set(node, targetsNow);
    const groupsBefore = follows ? this.nextGroupIds.get(node) : undefined;
    this.nextGroupIds.set(node, m.nextGroupId);
    if (c.type !== 'create-topic' && c.type !== 'add-partitions' && c.type !== 'decommission-broker') return;
    // The topic whose partitions this change created, and the first group it created (all, for a new topic).
    const created: TopicDescription | undefined = c.type === 'decommission-broker' ? undefined : m.describeTopic(c.name);
    const firstNewGroup = c.type === 'add-partitions' ? groupsBefore ?? Number.POSITIVE_INFINITY : 0;
    for (const part of created?.partitions ?? []) {
      if (part.group < firstNewGroup) continue;
      for (const r of part.replicas) {
        const b = m.brokers.get(r);
        if (b === undefined || b.fenced || b.shuttingDown || b.decommissioned) this.fail('fenced-assignment', `new partition ${created?.name ?? ''}/${part.partition} placed a replica on broker ${r}, which is ${b === undefined ? 'unregistered' : b.fenced ? 'fenced' : b.decommissioned ? 'decommissioned' : 'shutting down'}`);
      }
    }
    if (c.type === 'decommission-broker' && targetsBefore !== undefined) {
      for (const p of m.partitions.values()) {
        const earlier = targetsBefore.get(p.group) ?? [];
        for (const r of p.target ?? []) {
          const b = m.brokers.get(r);
          // A broker already in the replica set or in the earlier target (chosen while it was eligible) is not new.
          const isNew = r !== c.broker && !p.replicas.includes(r) && !earlier.includes(r);
          if (isNew && (b === undefined || b.fenced || b.decommissioned)) this.fail('fenced-assignment', `reassignment of group ${p.group} moves a replica to broker ${r}, which is not eligible`);
        }
      }
    }
    if (created !== undefined && before !== undefined && after > Math.max(before, 1)) {
      this.fail('placement', `${c.type === 'add-partitions' ? 'adding partitions to' : 'creating'} ${created.name} widened the replica-count spread from ${before} to ${after}`);
    }
  }
}
