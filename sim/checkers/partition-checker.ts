// Jepsen's queue anomalies, for Keel's partitions (PITFALLS.md, "Brokers"):
//   lost write           an acknowledged record is not in the log at its acknowledged offset
//   duplicate            one idempotent send stored at two offsets
//   inconsistent offsets two different records at one offset (across reads, or across replicas)
//   non-monotonic / skip a reader session's records do not follow each other offset by offset
//   offsets not dense    a replica's log has a gap between its start and its high watermark
// and, through `groups`, committed consumer-group offsets that went back (group-offsets-checker.ts).
import { getOrCreate, innerMap } from '../maps.ts';
import { GroupOffsetsChecker } from './group-offsets-checker.ts';
import type { Violation } from './raft-checker.ts';

export interface AckedRecord {
  readonly topicPartition: string;
  readonly offset: number;
  readonly value: string;
  readonly idempotent: boolean;
}

/** One replica's log at the end of a run. */
export interface ReplicaLog {
  readonly node: number;
  readonly topicPartition: string;
  readonly logStartOffset: number;
  readonly records: readonly { readonly offset: number; readonly value: string }[];
  /** The replica's applied Raft index, and its partition state there (next offset, producer table). */
  readonly appliedIndex: number;
  readonly state: string;
}

const newOffsetSet = (): Set<number> => new Set();

export class PartitionChecker {
  readonly violations: Violation[] = [];
  /** topicPartition -> offset -> value, over every record any read returned or any ack claimed. */
  private readonly observed = new Map<string, Map<number, string>>();
  /** topicPartition -> idempotent value -> offsets it was read or acknowledged at. */
  private readonly placedAt = new Map<string, Map<string, Set<number>>>();
  readonly acked: AckedRecord[] = [];
  reads = 0;
  recordsRead = 0;
  /** Committed consumer-group offsets; reports through this checker's violations. */
  readonly groups: GroupOffsetsChecker;

  constructor(
    private readonly now: () => number,
    /** Values written by idempotent producers (each must be stored at most once). */
    private readonly isIdempotent: (value: string) => boolean,
  ) {
    this.groups = new GroupOffsetsChecker((checker, message) => this.fail(checker, message));
  }

  fail(checker: string, message: string): void {
    if (this.violations.length < 20) this.violations.push({ checker, message, atMs: this.now() });
  }

  /** A reader session asked for `from` and got these records (in order). */
  read(session: string, tp: string, from: number, records: readonly { readonly offset: number; readonly value: string }[]): void {
    this.reads++;
    this.recordsRead += records.length;
    let expected = from;
    for (const r of records) {
      if (r.offset !== expected) {
        this.fail(r.offset < expected ? 'non-monotonic-read' : 'skipped-read', `reader ${session} on ${tp} asked for offset ${expected} and got ${r.offset}`);
        return;
      }
      this.place(tp, r.offset, r.value, 'read as');
      expected++;
    }
  }

  ack(a: AckedRecord): void {
    this.acked.push(a);
    this.place(a.topicPartition, a.offset, a.value, 'acknowledged for');
  }

  /**
   * One offset holds one record, whoever reports it (a read or an ack, in any order); one idempotent
   * value sits at one offset, even if retention later removes one of the copies.
   */
  private place(tp: string, offset: number, value: string, how: string): void {
    const seen = innerMap(this.observed, tp);
    const prev = seen.get(offset);
    if (prev === undefined) seen.set(offset, value);
    else if (prev !== value) this.fail('inconsistent-offsets', `${tp} offset ${offset} was seen holding ${prev}, and later ${how} ${value}`);
    if (!this.isIdempotent(value)) return;
    const at = getOrCreate(innerMap(this.placedAt, tp), value, newOffsetSet);
    at.add(offset);
    if (at.size === 2) this.fail('duplicate', `${tp}: idempotent send ${value} seen at offsets ${[...at].join(', ')}`);
  }

  /** Checks every replica's final log: dense, consistent across replicas and reads, acknowledged records present, no idempotent duplicates. */
  finalLogs(logs: readonly ReplicaLog[]): void {
    const byTp = new Map<string, ReplicaLog[]>();
    for (const l of logs) byTp.set(l.topicPartition, [...(byTp.get(l.topicPartition) ?? []), l]);
    const orphaned = new Set(this.acked.filter((a) => !byTp.has(a.topicPartition)).map((a) => a.topicPartition));
    for (const tp of orphaned) this.fail('lost-write', `${tp}: records were acknowledged, but no live replica holds the partition at the end`);
    for (const [tp, replicas] of byTp) {
      this.checkStateAgreement(tp, replicas);
      const agreed = new Map<number, string>();
      let logStart = 0;
      for (const l of replicas) {
        logStart = Math.max(logStart, l.logStartOffset);
        let expected = l.logStartOffset;
        for (const r of l.records) {
          if (r.offset !== expected) {
            this.fail('offsets-not-dense', `node ${l.node} ${tp}: offset ${r.offset} follows ${expected - 1}`);
            break;
          }
          expected++;
          const other = agreed.get(r.offset);
          if (other === undefined) agreed.set(r.offset, r.value);
          else if (other !== r.value) this.fail('inconsistent-offsets', `${tp} offset ${r.offset} holds ${other} on one replica and ${r.value} on node ${l.node}`);
          const read = this.observed.get(tp)?.get(r.offset);
          if (read !== undefined && read !== r.value) this.fail('inconsistent-offsets', `${tp} offset ${r.offset} was read as ${read} but node ${l.node} holds ${r.value}`);
        }
      }
      const offsetsOf = new Map<string, number[]>();
      for (const [o, v] of agreed) offsetsOf.set(v, [...(offsetsOf.get(v) ?? []), o]);
      for (const [v, at] of offsetsOf) {
        if (this.isIdempotent(v) && at.length > 1) this.fail('duplicate', `${tp}: idempotent send ${v} stored at offsets ${at.join(', ')}`);
      }
      for (const a of this.acked) {
        if (a.topicPartition !== tp) continue;
        if (a.offset >= logStart && agreed.get(a.offset) !== a.value) {
          this.fail('lost-write', `${tp}: ${a.value} acknowledged at offset ${a.offset}, but the log holds ${agreed.get(a.offset) ?? 'nothing'} there`);
        }
      }
    }
  }

  /**
   * State machine safety for the partition state: replicas that applied the same log prefix hold the same
   * state (next offset, producer table), however they got there (applying every entry, a snapshot, a
   * restart). A replica that deduplicates differently would accept a retry another one refuses.
   */
  private checkStateAgreement(tp: string, replicas: readonly ReplicaLog[]): void {
    const byIndex = new Map<number, ReplicaLog>();
    for (const l of replicas) {
      const other = byIndex.get(l.appliedIndex);
      if (other === undefined) byIndex.set(l.appliedIndex, l);
      else if (other.state !== l.state) {
        this.fail('replica-divergence', `${tp}: nodes ${other.node} and ${l.node} applied up to index ${l.appliedIndex} but hold different state: ${other.state.slice(0, 200)} vs ${l.state.slice(0, 200)}`);
      }
    }
  }
}
