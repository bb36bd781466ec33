// The broker workload: producers (half idempotent, half not) writing unique values to the data topics'
// partitions with acks=all, retrying through leader changes and timeouts like real clients; and reader
// sessions tailing each partition offset by offset, each a consumer group that commits its progress and
// reads its committed offsets back now and then. Everything they see goes to the PartitionChecker.
import type { Versioned } from '../../broker/controller-service.ts';
import type { KeelNode } from '../../broker/keel-node.ts';
import { adminError, type AdminResult } from '../../controller/errors.ts';
import type { CommitOffsetsResult, PartitionOffset } from '../../controller/group-offsets.ts';
import type { GroupDescription } from '../../controller/consumer-groups.ts';
import type { PResult, ProduceResponse } from '../../broker/partition/partition-service.ts';
import { NONE, type NodeId } from '../../raft/types.ts';
import { innerMap } from '../maps.ts';
import type { PartitionChecker } from '../checkers/partition-checker.ts';
import type { Violation } from '../checkers/raft-checker.ts';
import type { World } from '../world.ts';
import { keelCall } from './keel-call.ts';

export interface DataTopic {
  readonly name: string;
  readonly partitions: number;
}

export interface PartitionWorkloadOptions {
  readonly topics: readonly DataTopic[];
  readonly producers: number;
  readonly readers: number;
  readonly attemptTimeoutMs: number;
  readonly thinkTimeMs: number;
  readonly linkDelayMs: number;
  /** A reader session commits its progress (as consumer group "r<k>") about this often (0: never). */
  readonly commitEveryMs: number;
}

/** How often a reader session's commit turns into an operator's action on its group instead. */
const GROUP_RESET_CHANCE = 0.06;
const GROUP_DELETE_CHANCE = 0.02;

/**
 * A group-offsets request that names `topic` by id, as a client has it from a describe (the data topics
 * are never deleted, so the id does not change); refused at once by a node without the topic's metadata.
 */
function withTopicId<T>(topic: string, send: (n: KeelNode, topicId: number, done: (r: AdminResult<T>) => void) => void): (n: KeelNode, done: (r: AdminResult<T>) => void) => void {
  return (n, done) => {
    const topicId = n.metadata.topics.get(topic)?.id;
    if (topicId === undefined) return done(adminError('UNKNOWN_TOPIC', `${topic} is not in this node's metadata image`));
    send(n, topicId, done);
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface ProducerState {
  readonly id: number;
  readonly idempotent: boolean;
  producerId: number;
  seq: Map<string, number>;
  written: number;
}

export class PartitionWorkload {
  private issuing = true;
  private healStartMs = Number.POSITIVE_INFINITY;
  private readonly leaders = new Map<string, NodeId>();
  /** Produce requests by outcome, and after the heal. */
  readonly counts = { batches: 0, acked: 0, records: 0, failed: 0, afterHeal: 0, afterHealAcked: 0, firstAckAfterHealMs: Number.POSITIVE_INFINITY };
  private readonly pending = new Set<string>();
  /** Reader session → topic → partition → next offset it will fetch. */
  private readonly progress = new Map<string, Map<string, Map<number, number>>>();

  constructor(private readonly world: World, private readonly checker: PartitionChecker, private readonly options: PartitionWorkloadOptions) {}

  private tps(): string[] {
    return this.options.topics.flatMap((t) => Array.from({ length: t.partitions }, (_, p) => `${t.name}/${p}`));
  }

  start(): void {
    const rng = this.world.rngs.workload;
    for (let k = 0; k < this.options.producers; k++) {
      const p: ProducerState = { id: k, idempotent: k % 2 === 0, producerId: -1, seq: new Map(), written: 0 };
      this.world.sched.after(rng.nextFloat() * 50, () => (p.idempotent ? this.initProducer(p) : this.nextBatch(p)));
    }
    const tps = this.tps();
    for (let k = 0; k < this.options.readers; k++) {
      for (const tp of tps.filter((_, i) => i % this.options.readers === k)) {
        this.world.sched.after(rng.nextFloat() * 50, () => this.fetchLoop(`r${k}`, tp, 0));
      }
      if (this.options.commitEveryMs > 0) this.world.sched.after(this.options.commitEveryMs * (0.5 + rng.nextFloat()), () => this.commitLoop(`r${k}`));
    }
  }

  stopIssuing(): void {
    this.issuing = false;
  }

  healPhaseStarted(): void {
    this.healStartMs = this.world.now;
  }

  private target(tp: string): NodeId {
    const hint = this.leaders.get(tp) ?? NONE;
    if (hint !== NONE && this.world.rngs.workload.chance(0.9)) return hint;
    return this.world.rngs.workload.pick(this.world.nodeIds);
  }

  private call<T>(to: NodeId, fn: (n: KeelNode, done: (r: T) => void) => void, onAnswer: (r: T) => void, onTimeout: () => void): void {
    keelCall(this.world, this.options, to, fn, onAnswer, onTimeout);
  }

  private initProducer(p: ProducerState): void {
    if (!this.issuing) return;
    const to = this.world.rngs.workload.pick(this.world.nodeIds);
    this.call<{ ok: boolean; value?: unknown }>(to, (n, done) => n.initProducerId({ requestId: `pid-${p.id}` }, done), (r) => {
      if (r.ok) {
        p.producerId = (r.value as { producerId: number }).producerId;
        this.nextBatch(p);
      } else this.world.sched.after(100, () => this.initProducer(p));
    }, () => this.initProducer(p));
  }

  private nextBatch(p: ProducerState): void {
    if (!this.issuing) return;
    const rng = this.world.rngs.workload;
    const tp = rng.pick(this.tps());
    const count = 1 + rng.nextInt(3);
    const values = Array.from({ length: count }, () => `${p.idempotent ? 'i' : 'n'}${p.id}-${++p.written}`);
    const baseSequence = p.seq.get(tp) ?? 0;
    if (p.idempotent) p.seq.set(tp, baseSequence + count);
    this.counts.batches++;
    const key = `${p.id}:${values[0]}`;
    this.pending.add(key);
    this.attempt(p, tp, values, baseSequence, 1, this.world.now, key);
  }

  private attempt(p: ProducerState, tp: string, values: readonly string[], baseSequence: number, attempt: number, firstAt: number, key: string): void {
    const [topic, part] = tp.split('/') as [string, string];
    const partition = Number(part);
    const to = this.target(tp);
    const retry = (): void => {
      // Idempotent producers retry the same batch (same sequence) until it lands: a retry can never
      // duplicate it. Plain producers retry too, and may duplicate (allowed for them).
      if (!this.issuing && !p.idempotent) return this.done(p, key, false, firstAt);
      this.world.sched.after(Math.min(1_000, 30 * attempt), () => this.attempt(p, tp, values, baseSequence, attempt + 1, firstAt, key));
    };
    const records = values.map((v) => ({ key: null, value: encoder.encode(v), headers: [], timestamp: -1 }));
    this.call<PResult<ProduceResponse>>(to, (n, done) => n.produce({
      topic, partition, records, acks: 'all',
      ...(p.idempotent ? { producerId: p.producerId, producerEpoch: 0, baseSequence } : {}),
    }, done), (r) => {
      if (r.ok) {
        this.leaders.set(tp, to);
        values.forEach((value, k) => this.checker.ack({ topicPartition: tp, offset: r.value.baseOffset + k, value, idempotent: p.idempotent }));
        this.counts.records += values.length;
        if (this.world.tracing) this.world.timeline(to, `produce ${tp} ${values.join(',')} -> offset ${r.value.baseOffset}${r.value.duplicate ? ' (duplicate)' : ''}`);
        return this.done(p, key, true, firstAt);
      }
      const e = r.error;
      if (this.world.tracing) this.world.timeline(to, `produce ${tp} ${values.join(',')} -> ${e.code}${e.leader !== undefined ? ` (leader ${e.leader})` : ''}`);
      if (e.code === 'NOT_LEADER') this.leaders.set(tp, e.leader ?? NONE);
      else this.leaders.delete(tp);
      if (e.code === 'OUT_OF_ORDER_SEQUENCE' || e.code === 'INVALID_PRODUCER_EPOCH' || e.code === 'INVALID_RECORD' || e.code === 'RECORD_TOO_LARGE') {
        this.checker.fail('producer-error', `producer ${p.id} got ${e.code} for ${values.join(',')} on ${tp}: ${e.message}`);
        return this.done(p, key, false, firstAt);
      }
      retry();
    }, () => {
      this.leaders.delete(tp);
      retry();
    });
  }

  private done(p: ProducerState, key: string, acked: boolean, firstAt: number): void {
    this.pending.delete(key);
    if (acked) this.counts.acked++;
    else this.counts.failed++;
    if (firstAt >= this.healStartMs) {
      this.counts.afterHeal++;
      if (acked) {
        this.counts.afterHealAcked++;
        this.counts.firstAckAfterHealMs = Math.min(this.counts.firstAckAfterHealMs, this.world.now);
      }
    }
    this.world.sched.after(this.options.thinkTimeMs * (0.5 + this.world.rngs.workload.nextFloat()), () => this.nextBatch(p));
  }

  private fetchLoop(session: string, tp: string, offset: number): void {
    if (!this.issuing) return;
    const [topic, part] = tp.split('/') as [string, string];
    const partition = Number(part);
    const to = this.target(tp);
    const again = (next: number, delayMs: number): void => { this.world.sched.after(delayMs, () => this.fetchLoop(session, tp, next)); };
    this.call<PResult<{ records: readonly { offset: number; value: Uint8Array | null }[]; logStartOffset: number; highWatermark: number }>>(to,
      (n, done) => n.fetch({ topic, partition, offset, maxBytes: 4_096, maxWaitMs: 200 }, done), (r) => {
        if (r.ok) {
          this.leaders.set(tp, to);
          const recs = r.value.records.map((x) => ({ offset: x.offset, value: x.value === null ? '' : decoder.decode(x.value) }));
          this.checker.read(session, tp, offset, recs);
          const last = recs[recs.length - 1];
          if (last !== undefined) this.noteProgress(session, topic, partition, last.offset + 1);
          return again(last === undefined ? offset : last.offset + 1, recs.length === 0 ? 20 : 5);
        }
        const e = r.error;
        if (e.code === 'NOT_LEADER') this.leaders.set(tp, e.leader ?? NONE);
        if (e.code === 'OFFSET_OUT_OF_RANGE') {
          // Below the log start (retention): jump to the earliest offset, as a Kafka consumer resets.
          return this.call<PResult<{ offset: number }>>(to, (n, done) => n.listOffsets({ topic, partition, spec: 'earliest' }, done),
            (lr) => again(lr.ok && lr.value.offset > offset ? lr.value.offset : offset, 50), () => again(offset, 50));
        }
        again(offset, 50);
      }, () => again(offset, 20));
  }

  private noteProgress(session: string, topic: string, partition: number, next: number): void {
    innerMap(innerMap(this.progress, session), topic).set(partition, next);
  }

  /**
   * The session commits its progress on one topic at a random node (forwarded to the controller leader),
   * then, every other time, reads the group's committed offsets back. Now and then it acts as an
   * operator instead: it rewinds the group on a topic (a reset, setting offsets exactly, backwards) or
   * deletes the group (settle()).
   */
  private commitLoop(session: string): void {
    if (!this.issuing) return;
    const w = this.world;
    const rng = w.rngs.workload;
    const again = (): void => { w.sched.after(this.options.commitEveryMs * (0.5 + rng.nextFloat()), () => this.commitLoop(session)); };
    const topics = [...(this.progress.get(session) ?? new Map<string, Map<number, number>>())];
    if (topics.length === 0) return again();
    const [topic, partitions] = rng.pick(topics);
    const offsets = [...partitions].map(([partition, offset]) => ({ partition, offset }));
    const groups = this.checker.groups;
    const op = rng.nextFloat();
    if (op < GROUP_DELETE_CHANCE) {
      const requestId = `delete-${session}-${groups.issue()}`;
      return this.settle(session, (n, done) => n.deleteGroup({ requestId, group: session }, done), () => groups.deleted(session), again);
    }
    if (op < GROUP_DELETE_CHANCE + GROUP_RESET_CHANCE) {
      const requestId = `reset-${session}-${groups.issue()}`;
      const rewound = offsets.map(({ partition, offset }) => ({ partition, offset: Math.floor(offset * rng.nextFloat()) }));
      const reset = withTopicId<unknown>(topic, (n, topicId, done) => n.resetOffsets({ requestId, group: session, topic, topicId, offsets: rewound }, done));
      return this.settle(session, reset, () => groups.reset(session, topic, rewound), again);
    }
    const issued = groups.issue();
    const readBack = rng.chance(0.5);
    const commit = withTopicId<CommitOffsetsResult>(topic, (n, topicId, done) => n.commitOffsets({ group: session, topic, topicId, offsets }, done));
    this.call<AdminResult<CommitOffsetsResult>>(rng.pick(w.nodeIds), commit, (r) => {
      if (r.ok) groups.committed(session, topic, issued, r.value.offsets);
      if (!readBack) return again();
      const readIssued = groups.issue();
      const at = rng.pick(w.nodeIds);
      // Half the reads ask for the topic's offsets, half for the whole group (every topic it committed).
      if (rng.chance(0.5)) {
        return this.call<AdminResult<Versioned<PartitionOffset[]>>>(at, (n, done) => n.committedOffsets(session, topic, 'linearizable', done), (rr) => {
          if (rr.ok) groups.read(session, topic, readIssued, rr.value.value);
          again();
        }, again);
      }
      this.call<AdminResult<Versioned<GroupDescription>>>(at, (n, done) => n.describeGroup(session, 'linearizable', done), (rr) => {
        if (rr.ok) groups.readGroup(session, readIssued, rr.value.value.topics);
        again();
      }, again);
    }, again);
  }

  /**
   * A reset or deletion, sent with one request id to random nodes until one acknowledges it (the
   * controller applies a request id once, so a copy that lands late changes nothing). Until then the
   * group's floor is unknown and the checker leaves it alone; the session does nothing else meanwhile.
   */
  private settle(session: string, send: (n: KeelNode, done: (r: AdminResult<unknown>) => void) => void, acked: () => void, then: () => void): void {
    this.checker.groups.unsettle(session);
    const attempt = (): void => {
      if (!this.issuing) return; // left unsettled: the group is not checked again
      const retry = (): void => void this.world.sched.after(50, attempt);
      this.call<AdminResult<unknown>>(this.world.rngs.workload.pick(this.world.nodeIds), send, (r) => {
        if (!r.ok) return retry();
        acked();
        then();
      }, retry);
    };
    attempt();
  }

  /** Liveness after heal: produce requests succeed again within the bound, and all of them end. */
  livenessViolations(boundMs: number): Violation[] {
    if (!Number.isFinite(this.healStartMs)) return [];
    if (this.counts.firstAckAfterHealMs - this.healStartMs > boundMs) {
      return [{ checker: 'liveness', message: `no produce request was acknowledged within ${boundMs} ms of the heal`, atMs: this.world.now }];
    }
    return [];
  }

  get outstanding(): number {
    return this.pending.size;
  }
}
