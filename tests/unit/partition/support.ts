// Helpers shared by the partition unit tests: records and commands built from strings, commands
// wrapped as Raft entries (the partition's Raft log is its data log), and views of a machine's state
// that can be compared with toEqual.
import { encodeCommand, type PartitionCommand, type ProduceRecord, type ProducerInfo } from '../../../broker/partition/batch-codec.ts';
import type { ApplyOutcome, PartitionMachine } from '../../../broker/partition/partition-machine.ts';
import { index, term, type Entry } from '../../../raft/types.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const bytes = (s: string): Uint8Array => encoder.encode(s);
export const text = (b: Uint8Array | null): string | null => (b === null ? null : decoder.decode(b));

/** A record with a string value (and optionally key and timestamp), no headers. */
export function rec(value: string, opts: { key?: string | null; timestamp?: number } = {}): ProduceRecord {
  const key = opts.key === undefined || opts.key === null ? null : bytes(opts.key);
  return { key, value: bytes(value), headers: [], timestamp: opts.timestamp ?? -1 };
}

export function produce(values: readonly (string | ProduceRecord)[], producer: ProducerInfo | null = null, appendTimeMs = 1_000): PartitionCommand {
  return { type: 'produce', producer, appendTimeMs, records: values.map((v) => (typeof v === 'string' ? rec(v) : v)), guessedBaseOffset: -1 };
}

export const pid = (producerId: number, producerEpoch: number, baseSequence: number): ProducerInfo => ({ producerId, producerEpoch, baseSequence });

export const trim = (logStartOffset: number): PartitionCommand => ({ type: 'trim', logStartOffset });

export function entryOf(i: number, c: PartitionCommand | Uint8Array | null): Entry {
  const data = c === null ? new Uint8Array(0) : c instanceof Uint8Array ? c : encodeCommand(c);
  return { term: term(1), index: index(i), type: 'normal', data };
}

/** Feeds commands to a machine as consecutive entries from `first`; returns the outcomes. */
export class Feeder {
  next: number;
  constructor(readonly m: PartitionMachine, first = 1) {
    this.next = first;
  }

  apply(c: PartitionCommand | Uint8Array | null): unknown {
    return this.m.apply(entryOf(this.next++, c));
  }

  produce(values: readonly (string | ProduceRecord)[], producer: ProducerInfo | null = null, appendTimeMs = 1_000): ApplyOutcome {
    return this.apply(produce(values, producer, appendTimeMs)) as ApplyOutcome;
  }
}

/** The machine's whole retained log as (offset, value) pairs. */
export function contents(m: PartitionMachine): { offset: number; value: string | null }[] {
  return m.read(m.logStartOffset, Number.MAX_SAFE_INTEGER).records.map((r) => ({ offset: r.offset, value: text(r.value) }));
}

/** Offsets and retained contents: what two replicas of the same log must agree on. */
export function view(m: PartitionMachine): { nextOffset: number; logStartOffset: number; retainedBytes: number; records: { offset: number; value: string | null }[] } {
  return { nextOffset: m.nextOffset, logStartOffset: m.logStartOffset, retainedBytes: m.retainedBytes, records: contents(m) };
}

/** The base offset of an ok outcome; throws on anything else. */
export function offsetOf(o: unknown): number {
  const a = o as ApplyOutcome;
  if (a === undefined || !a.ok) throw new Error(`expected an ok outcome, got ${JSON.stringify(a)}`);
  return a.baseOffset;
}
