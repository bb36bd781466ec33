// The keel.v1 messages as the client library sees them on the wire: plain camelCase objects, 64-bit
// numbers as JavaScript numbers, bytes as Uint8Array (net/client-schema.ts decodes with defaults, so every
// scalar field is present in what we receive). Only what the client reads or writes is typed here.
import { enumValue } from '../client-schema.ts';

export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly leader: number;
  readonly leaderAddress: string;
}

export interface WireHeader {
  readonly key: string;
  readonly value: Uint8Array;
}

export interface WireRecord {
  readonly key: Uint8Array;
  readonly keyNull: boolean;
  readonly value: Uint8Array;
  readonly valueNull: boolean;
  readonly headers: readonly WireHeader[];
  readonly timestamp: number;
}

export interface WireProduceRequest {
  readonly topic: string;
  readonly hasPartition: boolean;
  readonly partition: number;
  readonly records: readonly WireRecord[];
  readonly acks: number;
  readonly hasProducer: boolean;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
}

export interface WireProduceResponse {
  readonly topic: string;
  readonly partition: number;
  readonly baseOffset: number;
  readonly logAppendTimeMs: number;
  readonly duplicate: boolean;
}

export interface WireProduceStreamRequest {
  readonly correlationId: number;
  readonly request: WireProduceRequest;
}

export type WireProduceStreamResponse =
  | { readonly correlationId: number; readonly result: 'ok'; readonly ok: WireProduceResponse }
  | { readonly correlationId: number; readonly result: 'error'; readonly error: WireError };

export interface WireFetchRequest {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly maxBytes: number;
  readonly maxWaitMs: number;
}

export interface WireFetchedRecord {
  readonly offset: number;
  readonly record: WireRecord;
}

export interface WireFetchResponse {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly WireFetchedRecord[];
  readonly highWatermark: number;
  readonly logStartOffset: number;
}

export interface WireSubscribeRequest {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly maxBytes: number;
}

export type WireSubscribeResponse =
  | { readonly result: 'batch'; readonly batch: WireFetchResponse }
  | { readonly result: 'error'; readonly error: WireError };

export interface WireListOffsetsRequest {
  readonly topic: string;
  readonly partition: number;
  readonly spec: number;
  readonly timestamp: number;
}

export interface ListOffsetsResult {
  readonly offset: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;
}

export interface ProducerIdentity {
  readonly producerId: number;
  readonly producerEpoch: number;
}

export interface PartitionInfo {
  readonly partition: number;
  /** The partition's Raft group id. */
  readonly group: number;
  readonly replicas: readonly number[];
  /** 0 when no leader is known. */
  readonly leader: number;
  /** '' when no leader is known. */
  readonly leaderAddress: string;
  readonly offline: readonly number[];
  readonly reassigningTo: readonly number[];
}

export interface TopicInfo {
  readonly name: string;
  readonly id: number;
  readonly replicationFactor: number;
  readonly configs: Readonly<Record<string, string>>;
  readonly partitions: readonly PartitionInfo[];
}

export interface BrokerInfo {
  readonly id: number;
  readonly address: string;
  readonly epoch: number;
  readonly fenced: boolean;
  readonly shuttingDown: boolean;
  readonly decommissioned: boolean;
}

export interface ClusterStatus {
  /** The node that answered. */
  readonly nodeId: number;
  /** 0 when the answering node knows no controller leader. */
  readonly controllerLeader: number;
  readonly metadataVersion: number;
  readonly brokers: readonly BrokerInfo[];
  readonly ready: boolean;
  readonly readyReason: string;
  readonly topics: readonly string[];
}

export type Acks = 'all' | 'leader';
export type Consistency = 'linearizable' | 'local';
export type OffsetSpec = 'earliest' | 'latest' | { readonly timestamp: number };

/** Enum numbers, read from client.proto. */
export const ACKS_WIRE: Readonly<Record<Acks, number>> = {
  all: enumValue('Acks', 'ACKS_ALL'),
  leader: enumValue('Acks', 'ACKS_LEADER'),
};

export const CONSISTENCY_WIRE: Readonly<Record<Consistency, number>> = {
  linearizable: enumValue('Consistency', 'CONSISTENCY_LINEARIZABLE'),
  local: enumValue('Consistency', 'CONSISTENCY_LOCAL'),
};

export function offsetSpecWire(spec: OffsetSpec): { readonly spec: number; readonly timestamp: number } {
  if (spec === 'earliest') return { spec: enumValue('OffsetSpec', 'OFFSET_EARLIEST'), timestamp: 0 };
  if (spec === 'latest') return { spec: enumValue('OffsetSpec', 'OFFSET_LATEST'), timestamp: 0 };
  return { spec: enumValue('OffsetSpec', 'OFFSET_TIMESTAMP'), timestamp: spec.timestamp };
}
