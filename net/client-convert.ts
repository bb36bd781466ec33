// keel.v1 client messages <-> the KeelNode API (broker/keel-node.ts). Every request field is checked
// here before anything reaches the core: its type, its range (ids, offsets and counts must be safe
// JavaScript integers), its size, and the proto3 presence flags (a field set without its has_* flag is
// a client bug, refused rather than silently ignored). A request that cannot be valid becomes an
// INVALID_REQUEST error value (INVALID_TOPIC / INVALID_PARTITIONS / INVALID_REPLICATION_FACTOR where the
// controller would say the same), never an exception. Responses are built as plain objects for the
// protobufjs serializers of net/client-schema.ts.
import type { Consistency } from '../broker/controller-service.ts';
import type { CreateTopicRequest } from '../broker/keel-node.ts';
import type { Header, ProduceRecord } from '../broker/partition/batch-codec.ts';
import type { FetchedRecord } from '../broker/partition/partition-machine.ts';
import {
  FETCH_WAIT_MS_MAX, RECORDS_PER_BATCH_MAX,
  type FetchRequest, type FetchResponse, type OffsetSpec, type ProduceRequest, type ProduceResponse,
} from '../broker/partition/partition-service.ts';
import type { MemberHeartbeat } from '../broker/group-coordinator.ts';
import { MEMBER_ID_CHARS_MAX, validateMemberId } from '../controller/group-members.ts';
import { OFFSETS_PER_COMMIT_MAX, validateGroupId, type PartitionOffset } from '../controller/group-offsets.ts';
import type { TopicDescription } from '../controller/metadata.ts';
import { validatePartitions, validateReplicationFactor, validateTopicName } from '../controller/topic-config.ts';
import type { AdminError } from '../controller/errors.ts';
import type { NodeId } from '../raft/types.ts';
import { keelError, type KeelError } from './client-errors.ts';
import { enumValue } from './client-schema.ts';

/** Limits of one request, beyond the core's own (RECORDS_PER_BATCH_MAX, FETCH_WAIT_MS_MAX, topic names). */
export const CLIENT_REQUEST_LIMITS = {
  requestIdCharsMax: 256,
  headersPerRecordMax: 1_000,
  headerKeyCharsMax: 4_096,
  configsPerTopicMax: 64,
  configKeyCharsMax: 256,
  configValueCharsMax: 256,
  /** max_bytes of Fetch and Subscribe; 0 means fetchBytesDefault. Kept well below the gRPC message limit. */
  fetchBytesMax: 16 << 20,
  fetchBytesDefault: 1 << 20,
} as const;

const U32_MAX = 0xffff_ffff;

/** What a request deserializer hands over instead of throwing when the bytes are not a valid message. */
export class MalformedRequest {
  constructor(readonly reason: string) {}
}

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: KeelError };

/** Thrown inside this file only, caught by `decode`: the first invalid field ends the check. */
class Invalid extends Error {
  constructor(readonly error: KeelError) {
    super(error.message);
  }
}

function invalid(message: string): never {
  throw new Invalid(keelError('INVALID_REQUEST', message));
}

function refusedBy(e: AdminError | null): void {
  if (e !== null) throw new Invalid(keelError(e.code, e.message));
}

function decode<T>(what: string, v: unknown, read: (m: Msg) => T): Decoded<T> {
  try {
    return { ok: true, value: read(message(v, what)) };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, error: err.error };
    throw err;
  }
}

// ---- field readers (proto3: an absent field reads as its default) --------------------------------

type Msg = Readonly<Record<string, unknown>>;

function message(v: unknown, what: string): Msg {
  if (v instanceof MalformedRequest) invalid(`malformed ${what}: ${v.reason}`);
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) invalid(`${what} must be a message`);
  return v as Msg;
}

function str(m: Msg, key: string, label: string, charsMax: number): string {
  const v = m[key] ?? '';
  if (typeof v !== 'string') invalid(`${label} must be a string`);
  if (v.length > charsMax) invalid(`${label} is ${v.length} characters long, at most ${charsMax} allowed`);
  return v;
}

function bool(m: Msg, key: string, label: string): boolean {
  const v = m[key] ?? false;
  if (typeof v !== 'boolean') invalid(`${label} must be a boolean`);
  return v;
}

/** An integer in [min, max] that JavaScript represents exactly. */
function int(m: Msg, key: string, label: string, min: number, max: number): number {
  const v = m[key] ?? 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) invalid(`${label} must be a safe integer (at most ${Number.MAX_SAFE_INTEGER}), got ${String(v)}`);
  if (v < min || v > max) invalid(`${label} must be in [${min}, ${max}], got ${v}`);
  return v;
}

const uint = (m: Msg, key: string, label: string, max = Number.MAX_SAFE_INTEGER): number => int(m, key, label, 0, max);

const EMPTY = new Uint8Array(0);

function bytes(m: Msg, key: string, label: string): Uint8Array {
  const v = m[key] ?? EMPTY;
  if (!(v instanceof Uint8Array)) invalid(`${label} must be bytes`);
  return v;
}

function list(m: Msg, key: string, label: string, max: number): readonly unknown[] {
  const v = m[key] ?? [];
  if (!Array.isArray(v)) invalid(`${label} must be a list`);
  if (v.length > max) invalid(`${label} has ${v.length} entries, at most ${max} allowed`);
  return v;
}

function enumOf<T>(m: Msg, key: string, label: string, values: ReadonlyMap<number, T>): T {
  const n = m[key] ?? 0;
  const v = typeof n === 'number' ? values.get(n) : undefined;
  if (v === undefined) invalid(`${label} must be one of ${[...values.keys()].join(', ')}, got ${String(n)}`);
  return v;
}

/** A topic name the controller could have accepted (INVALID_TOPIC otherwise, as the controller says). */
function topicName(m: Msg, key: string, label: string): string {
  // No length bound of its own: a name too long is an INVALID_TOPIC like any other bad name (the gRPC
  // message limit bounds the string).
  const name = str(m, key, label, Number.POSITIVE_INFINITY);
  refusedBy(validateTopicName(name));
  return name;
}

function requestId(m: Msg, newRequestId: () => string): string {
  const id = str(m, 'requestId', 'request_id', CLIENT_REQUEST_LIMITS.requestIdCharsMax);
  // An empty id gets a fresh one: the request is applied once, but a retry of it is a new request.
  return id === '' ? newRequestId() : id;
}

function fetchBytes(m: Msg): number {
  const n = uint(m, 'maxBytes', 'max_bytes', CLIENT_REQUEST_LIMITS.fetchBytesMax);
  return n === 0 ? CLIENT_REQUEST_LIMITS.fetchBytesDefault : n;
}

const ACKS = new Map<number, ProduceRequest['acks']>([[enumValue('Acks', 'ACKS_ALL'), 'all'], [enumValue('Acks', 'ACKS_LEADER'), 'leader']]);
const CONSISTENCY = new Map<number, Consistency>([
  [enumValue('Consistency', 'CONSISTENCY_LINEARIZABLE'), 'linearizable'],
  [enumValue('Consistency', 'CONSISTENCY_LOCAL'), 'local'],
]);
const SPEC_TIMESTAMP = enumValue('OffsetSpec', 'OFFSET_TIMESTAMP');
const SPECS = new Map<number, 'earliest' | 'latest' | 'timestamp'>([
  [enumValue('OffsetSpec', 'OFFSET_EARLIEST'), 'earliest'], [enumValue('OffsetSpec', 'OFFSET_LATEST'), 'latest'], [SPEC_TIMESTAMP, 'timestamp'],
]);

// ---- requests ----------------------------------------------------------------------------------

function readRecord(v: unknown, label: string): ProduceRecord {
  const r = message(v, label);
  const keyNull = bool(r, 'keyNull', `${label}.key_null`);
  const key = bytes(r, 'key', `${label}.key`);
  if (keyNull && key.byteLength > 0) invalid(`${label}: key_null is set but key has ${key.byteLength} bytes`);
  const valueNull = bool(r, 'valueNull', `${label}.value_null`);
  const value = bytes(r, 'value', `${label}.value`);
  if (valueNull && value.byteLength > 0) invalid(`${label}: value_null is set but value has ${value.byteLength} bytes`);
  const headers: Header[] = list(r, 'headers', `${label}.headers`, CLIENT_REQUEST_LIMITS.headersPerRecordMax).map((hv, k) => {
    const h = message(hv, `${label}.headers[${k}]`);
    return { key: str(h, 'key', `${label}.headers[${k}].key`, CLIENT_REQUEST_LIMITS.headerKeyCharsMax), value: bytes(h, 'value', `${label}.headers[${k}].value`) };
  });
  const timestamp = int(r, 'timestamp', `${label}.timestamp`, -1, Number.MAX_SAFE_INTEGER);
  return { key: keyNull ? null : key, value: valueNull ? null : value, headers, timestamp };
}

function readProduce(m: Msg): ProduceRequest {
  const topic = topicName(m, 'topic', 'topic');
  const hasPartition = bool(m, 'hasPartition', 'has_partition');
  const partition = uint(m, 'partition', 'partition', U32_MAX);
  if (!hasPartition && partition !== 0) invalid('partition is set but has_partition is false');
  const hasKey = bool(m, 'hasKey', 'has_key');
  const key = bytes(m, 'key', 'key');
  if (!hasKey && key.byteLength > 0) invalid('key is set but has_key is false');
  const acks = enumOf(m, 'acks', 'acks', ACKS);
  const rawRecords = list(m, 'records', 'records', RECORDS_PER_BATCH_MAX);
  if (rawRecords.length === 0) invalid('records must hold at least one record');
  const records = rawRecords.map((r, i) => readRecord(r, `records[${i}]`));
  const hasProducer = bool(m, 'hasProducer', 'has_producer');
  const producerId = uint(m, 'producerId', 'producer_id');
  const producerEpoch = uint(m, 'producerEpoch', 'producer_epoch', U32_MAX);
  const baseSequence = uint(m, 'baseSequence', 'base_sequence', U32_MAX);
  if (!hasProducer && (producerId !== 0 || producerEpoch !== 0 || baseSequence !== 0)) invalid('producer_id, producer_epoch or base_sequence is set but has_producer is false');
  return {
    topic,
    records,
    acks,
    ...(hasPartition ? { partition } : {}),
    ...(hasKey ? { key } : {}),
    ...(hasProducer ? { producerId, producerEpoch, baseSequence } : {}),
  };
}

export function decodeProduceRequest(v: unknown): Decoded<ProduceRequest> {
  return decode('ProduceRequest', v, readProduce);
}

export type DecodedStreamRequest =
  | { readonly ok: true; readonly correlationId: number; readonly request: ProduceRequest }
  /** correlationId null: the message names no usable correlation id, so no answer can be matched to it. */
  | { readonly ok: false; readonly correlationId: number | null; readonly error: KeelError };

export function decodeProduceStreamRequest(v: unknown): DecodedStreamRequest {
  const id = decode('ProduceStreamRequest', v, (m) => uint(m, 'correlationId', 'correlation_id'));
  if (!id.ok) return { ok: false, correlationId: null, error: id.error };
  const m = v as Msg;
  if (m['request'] === null || m['request'] === undefined) return { ok: false, correlationId: id.value, error: keelError('INVALID_REQUEST', 'request is missing') };
  const req = decodeProduceRequest(m['request']);
  return req.ok ? { ok: true, correlationId: id.value, request: req.value } : { ok: false, correlationId: id.value, error: req.error };
}

export function decodeFetchRequest(v: unknown): Decoded<FetchRequest> {
  return decode('FetchRequest', v, (m) => ({
    topic: topicName(m, 'topic', 'topic'),
    partition: uint(m, 'partition', 'partition', U32_MAX),
    offset: uint(m, 'offset', 'offset'),
    maxBytes: fetchBytes(m),
    maxWaitMs: uint(m, 'maxWaitMs', 'max_wait_ms', FETCH_WAIT_MS_MAX),
  }));
}

export interface SubscribeRequest {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly maxBytes: number;
}

export function decodeSubscribeRequest(v: unknown): Decoded<SubscribeRequest> {
  return decode('SubscribeRequest', v, (m) => ({
    topic: topicName(m, 'topic', 'topic'),
    partition: uint(m, 'partition', 'partition', U32_MAX),
    offset: uint(m, 'offset', 'offset'),
    maxBytes: fetchBytes(m),
  }));
}

export function decodeListOffsetsRequest(v: unknown): Decoded<{ topic: string; partition: number; spec: OffsetSpec }> {
  return decode('ListOffsetsRequest', v, (m) => {
    const topic = topicName(m, 'topic', 'topic');
    const partition = uint(m, 'partition', 'partition', U32_MAX);
    const spec = enumOf(m, 'spec', 'spec', SPECS);
    // The timestamp only means something with OFFSET_TIMESTAMP; otherwise its value is not looked at.
    if (spec !== 'timestamp') return { topic, partition, spec };
    return { topic, partition, spec: { timestamp: uint(m, 'timestamp', 'timestamp') } };
  });
}

export function decodeInitProducerIdRequest(v: unknown, newRequestId: () => string): Decoded<{ requestId: string }> {
  return decode('InitProducerIdRequest', v, (m) => ({ requestId: requestId(m, newRequestId) }));
}

function readConfigs(m: Msg): Record<string, string> {
  const v = m['configs'] ?? {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid('configs must be a map of string to string');
  const entries = Object.entries(v as Record<string, unknown>);
  const l = CLIENT_REQUEST_LIMITS;
  if (entries.length > l.configsPerTopicMax) invalid(`configs has ${entries.length} entries, at most ${l.configsPerTopicMax} allowed`);
  for (const [key, value] of entries) {
    if (key.length > l.configKeyCharsMax) invalid(`config key of ${key.length} characters, at most ${l.configKeyCharsMax} allowed`);
    if (typeof value !== 'string') invalid(`config ${key} must be a string`);
    if (value.length > l.configValueCharsMax) invalid(`config ${key} is ${value.length} characters long, at most ${l.configValueCharsMax} allowed`);
  }
  // fromEntries defines own properties: a key such as "__proto__" stays a key (the controller refuses it).
  return Object.fromEntries(entries) as Record<string, string>;
}

export function decodeCreateTopicRequest(v: unknown, newRequestId: () => string): Decoded<CreateTopicRequest> {
  return decode('CreateTopicRequest', v, (m) => {
    const name = topicName(m, 'name', 'name');
    const partitions = uint(m, 'partitions', 'partitions', U32_MAX);
    refusedBy(validatePartitions(partitions));
    const replicationFactor = uint(m, 'replicationFactor', 'replication_factor', U32_MAX);
    // The upper bound (brokers available now) is the controller's to check.
    refusedBy(validateReplicationFactor(replicationFactor, Number.MAX_SAFE_INTEGER));
    const configs = readConfigs(m);
    return { requestId: requestId(m, newRequestId), name, partitions, replicationFactor, configs };
  });
}

export function decodeDeleteTopicRequest(v: unknown, newRequestId: () => string): Decoded<{ requestId: string; name: string }> {
  return decode('DeleteTopicRequest', v, (m) => ({ name: topicName(m, 'name', 'name'), requestId: requestId(m, newRequestId) }));
}

export function decodeAlterTopicConfigsRequest(v: unknown, newRequestId: () => string): Decoded<{ requestId: string; name: string; configs: Record<string, string>; deleteConfigs: string[] }> {
  return decode('AlterTopicConfigsRequest', v, (m) => {
    const l = CLIENT_REQUEST_LIMITS;
    const deleteConfigs = list(m, 'deleteConfigs', 'delete_configs', l.configsPerTopicMax).map((k, i) => {
      if (typeof k !== 'string') invalid(`delete_configs[${i}] must be a string`);
      if (k.length > l.configKeyCharsMax) invalid(`delete_configs[${i}] is ${k.length} characters long, at most ${l.configKeyCharsMax} allowed`);
      return k;
    });
    return { requestId: requestId(m, newRequestId), name: topicName(m, 'name', 'name'), configs: readConfigs(m), deleteConfigs };
  });
}

export function decodeCreatePartitionsRequest(v: unknown, newRequestId: () => string): Decoded<{ requestId: string; name: string; partitions: number }> {
  return decode('CreatePartitionsRequest', v, (m) => {
    const name = topicName(m, 'name', 'name');
    const partitions = uint(m, 'partitions', 'partitions', U32_MAX);
    refusedBy(validatePartitions(partitions));
    return { requestId: requestId(m, newRequestId), name, partitions };
  });
}

export function decodeListTopicsRequest(v: unknown): Decoded<Consistency> {
  return decode('ListTopicsRequest', v, (m) => enumOf(m, 'consistency', 'consistency', CONSISTENCY));
}

export function decodeDescribeTopicRequest(v: unknown): Decoded<{ name: string; consistency: Consistency }> {
  return decode('DescribeTopicRequest', v, (m) => ({ name: topicName(m, 'name', 'name'), consistency: enumOf(m, 'consistency', 'consistency', CONSISTENCY) }));
}

function groupId(m: Msg): string {
  const g = m['groupId'] ?? '';
  const refused = validateGroupId(g);
  if (refused !== null) throw new Invalid(keelError('INVALID_GROUP', `group_id: ${refused}`));
  return g as string;
}

type OffsetsRequest = { group: string; topic: string; topicId: number; offsets: PartitionOffset[]; memberId?: string };

/** The group, topic, topic id and offsets of a CommitOffsets or ResetOffsets request. */
function offsetsRequest(m: Msg): OffsetsRequest {
  const group = groupId(m);
  const topic = topicName(m, 'topic', 'topic');
  const topicId = int(m, 'topicId', 'topic_id (the id DescribeTopic gives)', 1, Number.MAX_SAFE_INTEGER);
  const offsets = list(m, 'offsets', 'offsets', OFFSETS_PER_COMMIT_MAX).map((o, k) => {
    const po = message(o, `offsets[${k}]`);
    return { partition: uint(po, 'partition', `offsets[${k}].partition`, U32_MAX), offset: uint(po, 'offset', `offsets[${k}].offset`) };
  });
  if (offsets.length === 0) invalid('offsets: a commit names at least one partition');
  return { group, topic, topicId, offsets };
}

export function decodeCommitOffsetsRequest(v: unknown): Decoded<OffsetsRequest> {
  return decode('CommitOffsetsRequest', v, (m) => {
    const memberId = str(m, 'memberId', 'member_id', MEMBER_ID_CHARS_MAX);
    return memberId === '' ? offsetsRequest(m) : { ...offsetsRequest(m), memberId };
  });
}

export function decodeMemberHeartbeatRequest(v: unknown): Decoded<MemberHeartbeat> {
  return decode('MemberHeartbeatRequest', v, (m) => {
    const group = groupId(m);
    const memberId = str(m, 'memberId', 'member_id', MEMBER_ID_CHARS_MAX);
    const badMember = validateMemberId(memberId);
    if (badMember !== null) invalid(`member_id: ${badMember}`);
    const topic = topicName(m, 'topic', 'topic');
    const topicId = int(m, 'topicId', 'topic_id (the id DescribeTopic gives)', 1, Number.MAX_SAFE_INTEGER);
    const owned = list(m, 'owned', 'owned', OFFSETS_PER_COMMIT_MAX).map((p, k) => uint({ p }, 'p', `owned[${k}]`, U32_MAX));
    return { group, memberId, topic, topicId, owned, leave: bool(m, 'leave', 'leave') };
  });
}

export function decodeResetOffsetsRequest(v: unknown, newRequestId: () => string): Decoded<OffsetsRequest & { requestId: string }> {
  return decode('ResetOffsetsRequest', v, (m) => ({ ...offsetsRequest(m), requestId: requestId(m, newRequestId) }));
}

export function decodeDeleteGroupRequest(v: unknown, newRequestId: () => string): Decoded<{ requestId: string; group: string }> {
  return decode('DeleteGroupRequest', v, (m) => ({ group: groupId(m), requestId: requestId(m, newRequestId) }));
}

export function decodeFetchOffsetsRequest(v: unknown): Decoded<{ group: string; topic: string; consistency: Consistency }> {
  return decode('FetchOffsetsRequest', v, (m) => ({ group: groupId(m), topic: topicName(m, 'topic', 'topic'), consistency: enumOf(m, 'consistency', 'consistency', CONSISTENCY) }));
}

export function decodeListGroupsRequest(v: unknown): Decoded<Consistency> {
  return decode('ListGroupsRequest', v, (m) => enumOf(m, 'consistency', 'consistency', CONSISTENCY));
}

export function decodeDescribeGroupRequest(v: unknown): Decoded<{ group: string; consistency: Consistency }> {
  return decode('DescribeGroupRequest', v, (m) => ({ group: groupId(m), consistency: enumOf(m, 'consistency', 'consistency', CONSISTENCY) }));
}

export function decodeEmptyRequest(what: string, v: unknown): Decoded<null> {
  return decode(what, v, () => null);
}

// ---- responses ---------------------------------------------------------------------------------

export interface WireRecord {
  key: Uint8Array;
  keyNull: boolean;
  value: Uint8Array;
  valueNull: boolean;
  headers: { key: string; value: Uint8Array }[];
  timestamp: number;
}

export function encodeRecord(r: FetchedRecord | ProduceRecord): WireRecord {
  return {
    key: r.key ?? EMPTY,
    keyNull: r.key === null,
    value: r.value ?? EMPTY,
    valueNull: r.value === null,
    headers: r.headers.map((h) => ({ key: h.key, value: h.value })),
    timestamp: r.timestamp,
  };
}

export function encodeProduceResponse(r: ProduceResponse): Record<string, unknown> {
  return { topic: r.topic, partition: r.partition, baseOffset: r.baseOffset, logAppendTimeMs: r.logAppendTimeMs, duplicate: r.duplicate };
}

export function encodeFetchResponse(r: FetchResponse): Record<string, unknown> {
  return {
    topic: r.topic,
    partition: r.partition,
    records: r.records.map((rec) => ({ offset: rec.offset, record: encodeRecord(rec) })),
    highWatermark: r.highWatermark,
    logStartOffset: r.logStartOffset,
  };
}

export function encodeTopicInfo(t: TopicDescription, addressOf: (id: NodeId) => string | undefined): Record<string, unknown> {
  return {
    name: t.name,
    id: t.id,
    replicationFactor: t.replicationFactor,
    configs: Object.fromEntries(Object.entries(t.configs).map(([k, v]) => [k, String(v)])),
    partitions: t.partitions.map((p) => ({
      partition: p.partition,
      group: p.group,
      replicas: [...p.replicas],
      leader: p.leader,
      leaderAddress: addressOf(p.leader) ?? '',
      offline: [...p.offline],
      reassigningTo: [...(p.reassigningTo ?? [])],
    })),
  };
}

// ---- results from the controller ---------------------------------------------------------------
// The controller answers a retried request id with the first result it gave for that id, whatever
// command it was (broker/controller dedup is keyed by id alone). A result of the wrong kind means the
// client reused an id for a different request: refused here, never passed on as if it were an answer.

export type Encoded = { readonly ok: true; readonly value: object } | { readonly ok: false; readonly error: KeelError };

function reusedId(what: string): Encoded {
  return { ok: false, error: keelError('INVALID_REQUEST', `request_id was already used for a different request; use a new id for each ${what}`) };
}

function isTopicDescription(v: unknown): v is TopicDescription {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Partial<TopicDescription>;
  return typeof t.name === 'string' && typeof t.configs === 'object' && t.configs !== null && Array.isArray(t.partitions);
}

/** The answer to a CreateTopic, CreatePartitions or AlterTopicConfigs (`what`): the topic as it is now. */
export function encodeTopicAnswer(v: unknown, name: string, addressOf: (id: NodeId) => string | undefined, what: string): Encoded {
  if (!isTopicDescription(v) || v.name !== name) return reusedId(what);
  return { ok: true, value: { topic: encodeTopicInfo(v, addressOf) } };
}

export function encodeDeletedTopic(v: unknown, name: string): Encoded {
  const deleted = typeof v === 'object' && v !== null ? (v as { deleted?: unknown }).deleted : undefined;
  return deleted === name ? { ok: true, value: {} } : reusedId('DeleteTopic');
}

export function encodeProducerId(v: unknown): Encoded {
  const p = (typeof v === 'object' && v !== null ? v : {}) as { producerId?: unknown; producerEpoch?: unknown };
  const safe = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!safe(p.producerId) || !safe(p.producerEpoch)) return reusedId('InitProducerId');
  return { ok: true, value: { producerId: p.producerId, producerEpoch: p.producerEpoch } };
}

