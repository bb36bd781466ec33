// What the leader of each partition group does on its own, a few times a second: tells the controller it
// leads (so clients find it), enforces retention (a replicated trim), carries out reassignments (add the
// new replica as a learner, promote it once caught up while removing the old one through a joint
// configuration, then report completion), moves leadership away from a broker shutting down, and hands
// it back to the preferred replica (the first of the replica list, which placement balances across
// brokers) once that one is back and caught up, as Kafka's auto leader rebalancing does.
import type { ControllerService } from '../controller-service.ts';
import type { MetadataState, PartitionRecord } from '../../controller/metadata.ts';
import type { ConfChange, NodeId } from '../../raft/types.ts';
import type { Clock, Logger } from '../ports.ts';
import type { Replica } from '../replica.ts';
import { encodeCommand } from './batch-codec.ts';
import type { PartitionMachine } from './partition-machine.ts';

export interface DutiesContext {
  readonly nodeId: NodeId;
  readonly metadata: MetadataState;
  readonly controller: ControllerService;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Every replica hosted here (the controller's too: it is no partition, so reportLeaders skips it). */
  readonly replicas: ReadonlyMap<number, Replica>;
  /** Partition groups hosted here, with their machines. */
  partitions(): Iterable<{ readonly group: number; readonly replica: Replica; readonly machine: PartitionMachine }>;
}

/** A learner counts as caught up once it is this close to the leader's commit index. */
const CATCH_UP_SLACK_ENTRIES = 16;
/**
 * Duty rounds a leader keeps leadership before handing it to the preferred replica: long enough that a
 * replica which just came back proves itself, and that leadership does not flap during an election storm.
 */
export const PREFERRED_LEADER_DELAY_ROUNDS = 10;

export class PartitionDuties {
  private readonly reported = new Map<number, number>();
  /** One duty action in flight per group and kind, so a slow commit does not pile up proposals. */
  private readonly busy = new Set<string>();
  /** Per group led here: the term, and duty rounds led in it. */
  private readonly leadership = new Map<number, { term: number; rounds: number }>();

  constructor(private readonly ctx: DutiesContext) {}

  run(): void {
    const me = this.ctx.metadata.brokers.get(this.ctx.nodeId);
    const shuttingDown = me?.shuttingDown === true;
    for (const { group, replica, machine } of this.ctx.partitions()) {
      if (!replica.isLeader) {
        this.leadership.delete(group);
        continue;
      }
      const p = this.ctx.metadata.partitions.get(group);
      if (p === undefined) continue;
      this.retention(group, p, replica, machine);
      if (p.target !== null) this.reassign(group, p, replica);
      if (shuttingDown) this.moveLeadershipAway(replica);
      else if (p.target === null && this.ledLongEnough(group, replica)) this.preferLeader(p, replica);
    }
  }

  /**
   * Every tick: reports leaderships the controller does not know yet (new ones, and reports that failed),
   * so clients find a new leader at once. Allocation-free; one map lookup per group led here.
   */
  reportLeaders(): void {
    this.ctx.replicas.forEach((replica, group) => {
      if (replica.isLeader && this.reported.get(group) !== replica.raw.raft.term && this.ctx.metadata.partitions.has(group)) this.reportLeadership(group, replica);
    });
  }

  private ledLongEnough(group: number, replica: Replica): boolean {
    const term = replica.raw.raft.term;
    const l = this.leadership.get(group);
    if (l === undefined || l.term !== term) {
      this.leadership.set(group, { term, rounds: 1 });
      return false;
    }
    l.rounds++;
    return l.rounds > PREFERRED_LEADER_DELAY_ROUNDS;
  }

  /** Hands leadership to the preferred replica if it is a healthy, caught-up voter. */
  private preferLeader(p: PartitionRecord, replica: Replica): void {
    const preferred = p.replicas[0];
    if (preferred === undefined || preferred === this.ctx.nodeId) return;
    const b = this.ctx.metadata.brokers.get(preferred);
    if (b === undefined || b.fenced || b.shuttingDown || b.decommissioned) return;
    const status = replica.raw.status();
    const pr = status.progress.get(preferred);
    if (status.leadTransferee !== 0 || pr === undefined || pr.isLearner || !replica.heardFromRecently(preferred) || !status.config.voters.includes(preferred)) return;
    if (pr.match < status.commit) return;
    replica.transferLeader(preferred);
    this.leadership.delete(p.group);
  }

  private once(key: string, start: (finished: () => void) => void): void {
    if (this.busy.has(key)) return;
    this.busy.add(key);
    start(() => this.busy.delete(key));
  }

  private reportLeadership(group: number, replica: Replica): void {
    const term = replica.raw.raft.term;
    if (this.reported.get(group) === term) return;
    if (this.ctx.metadata.partitions.get(group)?.leader === this.ctx.nodeId && this.ctx.metadata.partitions.get(group)?.leaderTerm === term) {
      this.reported.set(group, term);
      return;
    }
    this.once(`report/${group}`, (finished) => {
      this.ctx.controller.write({ type: 'report-leader', group, leader: this.ctx.nodeId, term }, (r) => {
        finished();
        if (r.ok) this.reported.set(group, term);
      });
    });
  }

  private retention(group: number, p: PartitionRecord, replica: Replica, machine: PartitionMachine): void {
    const t = this.ctx.metadata.topics.get(p.topic);
    if (t === undefined) return;
    const target = machine.retentionTarget(t.configs['retention.bytes'], t.configs['retention.ms'], this.ctx.clock.wallMs());
    if (target === undefined || target <= machine.logStartOffset) return;
    this.once(`trim/${group}`, (finished) => replica.propose(encodeCommand({ type: 'trim', logStartOffset: target }), finished));
  }

  /** One step of a reassignment at a time; each step waits for the previous one to commit. */
  private reassign(group: number, p: PartitionRecord, replica: Replica): void {
    const target = p.target as NodeId[];
    const cs = replica.confState;
    if (cs.votersOutgoing.length > 0) return; // a joint change is being left automatically
    const members = new Set([...cs.voters, ...cs.learners]);
    const change = (cc: ConfChange): void => this.once(`reassign/${group}`, (finished) => replica.proposeConfChange(cc, finished));
    const missing = target.filter((n) => !members.has(n));
    if (missing.length > 0) {
      change({ transition: 'auto', changes: [{ type: 'addLearner', nodeId: missing[0] as NodeId }], context: 'reassign: add learner' });
      return;
    }
    const status = replica.raw.status();
    const commit = status.commit;
    const promote = target.filter((n) => cs.learners.includes(n));
    // Caught up = replicating near the commit index. A learner still waiting for a snapshot is not, however
    // small the log: promoted, it could stall the joint configuration.
    const laggards = promote.filter((n) => {
      const pr = status.progress.get(n);
      return pr === undefined || pr.state !== 'replicate' || pr.match + CATCH_UP_SLACK_ENTRIES < commit;
    });
    if (laggards.length > 0) return;
    const remove = [...cs.voters, ...cs.learners].filter((n) => !target.includes(n));
    if (promote.length > 0 || remove.length > 0) {
      const changes = [...promote.map((n) => ({ type: 'addNode' as const, nodeId: n })), ...remove.map((n) => ({ type: 'removeNode' as const, nodeId: n }))];
      change({ transition: 'auto', changes, context: 'reassign: promote and remove' });
      return;
    }
    this.once(`reassigned/${group}`, (finished) => {
      this.ctx.controller.write({ type: 'reassignment-done', group, replicas: target }, finished);
    });
  }

  /** Controlled shutdown: hand leadership to the most caught-up live voter. */
  private moveLeadershipAway(replica: Replica): void {
    const status = replica.raw.status();
    if (status.leadTransferee !== 0) return;
    let best: NodeId | undefined;
    let bestMatch = -1;
    for (const [id, pr] of status.progress) {
      if (id === this.ctx.nodeId || pr.isLearner || !status.config.voters.includes(id)) continue;
      if (pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    if (best !== undefined) replica.transferLeader(best);
  }

  /** Hands off every partition this node leads (it cannot serve them: no metadata image). */
  handOffAll(): void {
    for (const { replica } of this.ctx.partitions()) if (replica.isLeader) this.moveLeadershipAway(replica);
  }

  /** Groups this node still leads (for controlled shutdown). */
  leading(): number[] {
    const out: number[] = [];
    for (const { group, replica } of this.ctx.partitions()) if (replica.isLeader) out.push(group);
    return out;
  }
}
