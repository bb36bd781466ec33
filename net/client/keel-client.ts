// The Keel client: admin calls, produce, fetch, list offsets, subscribe, and the producer and consumer
// built on them, over one gRPC channel per broker address. Admin calls go to any node (it forwards to the
// controller) and retry NOT_CONTROLLER / unavailable / timed-out attempts elsewhere; partition calls go
// to the partition's leader (leader-routing.ts) and retry until their deadline. Every unary call has a
// deadline; the two long-lived streams (ProduceStream, Subscribe) have per-request timers and keepalive.
import { FETCH_WAIT_MS_MAX } from '../../broker/partition/partition-service.ts';
import { CLIENT_REQUEST_LIMITS } from '../client-convert.ts';
import { AdminTarget } from './admin-target.ts';
import { validateBackoff, type BackoffPolicy } from './backoff.ts';
import { openProduceStream, openSubscribe, unaryCall, type GroupMemberInfo, type GroupOffsetsRequest, type PartitionOffset, type UnaryMethod, type UnaryMethods } from './calls.ts';
import { CHANNEL_DEFAULTS, ChannelPool, type ChannelLimits } from './channels.ts';
import { Consumer } from './consumer.ts';
import { realEnv, type ClientEnv } from './env.ts';
import { closedError, errorFromStatus, invalidRequest, isKeelError, KeelError } from './errors.ts';
import type { MemberHeartbeatAnswer, MemberHeartbeatRequest } from './group-membership.ts';
import { LeaderRouter } from './leader-routing.ts';
import { MetadataCache } from './metadata-cache.ts';
import { PartitionChooser } from './partition-chooser.ts';
import { ProduceStreamConnection, type ProduceChannel } from './produce-stream.ts';
import { Producer, type ProducerHost, type ProducerOptions } from './producer.ts';
import { beyondEveryTopic, fromWireRecord, toBytes, toWireRecord, wireRecordBytes, type Bytes, type FetchResult, type ProducerRecord } from './records.ts';
import { withRetries } from './retry.ts';
import { Subscription, type StreamControl, type StreamHandlers, type SubscribeOptions, type SubscriptionHost } from './subscription.ts';
import {
  ACKS_WIRE, CONSISTENCY_WIRE, offsetSpecWire, type Acks, type ClusterStatus, type Consistency, type ListOffsetsResult, type OffsetSpec,
  type ProducerIdentity, type TopicInfo, type WireProduceRequest, type WireSubscribeRequest,
} from './wire.ts';

export { KeelError } from './errors.ts';
export type { Acks, ClusterStatus, Consistency, ListOffsetsResult, OffsetSpec, PartitionInfo, ProducerIdentity, TopicInfo, BrokerInfo } from './wire.ts';
export type { Bytes, ConsumedRecord, FetchResult, ProducerRecord, RecordHeader } from './records.ts';
export type { Producer, ProducerOptions, SendOptions, SendResult } from './producer.ts';
export type { Subscription, SubscribeOptions } from './subscription.ts';
export type { Consumer, ReadOptions, TopicRecord } from './consumer.ts';

export interface KeelClientOptions {
  /** host:port of one or more brokers; any of them will do. */
  readonly bootstrap: readonly string[];
  /** Deadline of each call (default 10,000 ms; a fetch gets its maxWaitMs on top). */
  readonly requestTimeoutMs?: number;
  /** How long a request keeps retrying, admin calls included (default 3 x requestTimeoutMs). */
  readonly deliveryTimeoutMs?: number;
  /** Retries of an admin call, and reconnects in a row of a subscription (default 10). */
  readonly retriesMax?: number;
  /** Backoff between retries (defaults 50 and 2,000 ms), with jitter. */
  readonly backoffMsMin?: number;
  readonly backoffMsMax?: number;
  readonly channels?: Partial<ChannelLimits>;
  /** A topic's cached description is described again after this long (default 300,000 ms, Kafka's metadata.max.age.ms). */
  readonly metadataMaxAgeMs?: number;
  /** Clock, timers, randomness and request ids (tests). */
  readonly env?: ClientEnv;
}

export interface CreateTopicOptions {
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs?: Readonly<Record<string, string>>;
}

export interface ProduceOptions {
  /** Explicit partition; else `key` (or the key every record shares) picks it by murmur2; else round-robin. */
  readonly partition?: number;
  readonly key?: Bytes | null;
  /** Default 'all'. */
  readonly acks?: Acks;
}

export interface ProduceResult {
  readonly partition: number;
  /** Offset of the batch's first record; -1 with acks 'leader'. */
  readonly baseOffset: number;
  /** The broker had this batch already (only for idempotent requests): baseOffset is the original. */
  readonly duplicate: boolean;
}

export interface FetchOptions {
  /** Default 1 MiB. */
  readonly maxBytes?: number;
  /** Long-poll: wait up to this long for records when there are none yet (default 0). */
  readonly maxWaitMs?: number;
}

const DEFAULTS = {
  requestTimeoutMs: 10_000,
  metadataMaxAgeMs: 300_000,
  retriesMax: 10,
  backoffMsMin: 50,
  backoffMsMax: 2_000,
  fetchBytes: 1 << 20,
};

/** The server's bound on a fetch's max_bytes (a larger value is refused, so it is clamped here). */
const FETCH_BYTES_MAX = CLIENT_REQUEST_LIMITS.fetchBytesMax;

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/;

/** Checks and deduplicates bootstrap addresses (host:port, IPv6 in brackets). */
export function parseBootstrap(addresses: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of addresses) {
    const a = raw.trim();
    const m = ADDRESS.exec(a);
    const port = Number(m?.[2]);
    if (m === null || !(port >= 1 && port <= 65_535)) throw invalidRequest(`bad bootstrap address "${raw}": expected host:port`);
    if (!out.includes(a)) out.push(a);
  }
  if (out.length === 0) throw invalidRequest('at least one bootstrap address (host:port) is required');
  return out;
}

export class KeelClient {
  readonly bootstrap: readonly string[];
  readonly requestTimeoutMs: number;
  readonly deliveryTimeoutMs: number;
  readonly retriesMax: number;
  readonly backoff: BackoffPolicy;
  readonly env: ClientEnv;
  private readonly channels: ChannelPool;
  private readonly cache = new MetadataCache();
  private readonly router: LeaderRouter;
  private readonly admin: AdminTarget;
  private readonly chooser: PartitionChooser;
  private readonly producers = new Set<Producer>();
  private readonly subscriptions = new Set<Subscription>();
  /** produce() pipelines on one ProduceStream per broker: far cheaper per request than unary calls. */
  private readonly produceStreams = new Map<string, ProduceChannel>();
  private closed = false;

  constructor(options: KeelClientOptions) {
    this.bootstrap = parseBootstrap(options.bootstrap);
    this.env = options.env ?? realEnv();
    this.requestTimeoutMs = atLeast('requestTimeoutMs', options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs, 1);
    this.deliveryTimeoutMs = atLeast('deliveryTimeoutMs', options.deliveryTimeoutMs ?? 3 * this.requestTimeoutMs, 1);
    this.retriesMax = atLeast('retriesMax', options.retriesMax ?? DEFAULTS.retriesMax, 0);
    this.backoff = { backoffMsMin: options.backoffMsMin ?? DEFAULTS.backoffMsMin, backoffMsMax: options.backoffMsMax ?? Math.max(DEFAULTS.backoffMsMax, options.backoffMsMin ?? 0) };
    const bad = validateBackoff(this.backoff);
    if (bad !== null) throw invalidRequest(bad);
    this.channels = new ChannelPool({ ...CHANNEL_DEFAULTS, ...options.channels });
    this.admin = new AdminTarget(this.bootstrap);
    this.router = new LeaderRouter(this.cache, this.bootstrap, (topic) => this.describeForRouting(topic), this.env, this.backoff, atLeast('metadataMaxAgeMs', options.metadataMaxAgeMs ?? DEFAULTS.metadataMaxAgeMs, 0));
    this.chooser = new PartitionChooser(() => this.env.random());
  }

  // ---- admin -------------------------------------------------------------------------------------

  /** Creates a topic; one request id for every retry, so a retried create is applied once. */
  async createTopic(name: string, options: CreateTopicOptions): Promise<TopicInfo> {
    const requestId = this.env.requestId();
    return this.topicAnswer(name, await this.adminCall('CreateTopic', { requestId, name, partitions: options.partitions, replicationFactor: options.replicationFactor, configs: options.configs ?? {} }));
  }

  /** Grows a topic to `partitions` partitions (never shrinks it); the topic as it is then. */
  async createPartitions(name: string, partitions: number): Promise<TopicInfo> {
    return this.topicAnswer(name, await this.adminCall('CreatePartitions', { requestId: this.env.requestId(), name, partitions }));
  }

  /** Sets some configs of a topic and `deleteConfigs` back to their defaults (the others keep their values); the topic as it is then. */
  async alterTopicConfigs(name: string, configs: Readonly<Record<string, string>>, deleteConfigs: readonly string[] = []): Promise<TopicInfo> {
    return this.topicAnswer(name, await this.adminCall('AlterTopicConfigs', { requestId: this.env.requestId(), name, configs, deleteConfigs }));
  }

  /** The topic an admin call answered with (asked for if the answer had none), now also in the metadata cache. */
  private async topicAnswer(name: string, r: { readonly topic: TopicInfo | null }): Promise<TopicInfo> {
    if (r.topic === null) return this.describeTopic(name);
    this.cache.update(r.topic, this.env.now());
    return r.topic;
  }

  async deleteTopic(name: string): Promise<void> {
    const requestId = this.env.requestId();
    try {
      await this.adminCall('DeleteTopic', { requestId, name });
    } finally {
      this.cache.invalidate(name);
    }
  }

  /** Topic names; 'linearizable' (default) reads through the controller leader, 'local' the answering node's image. */
  async listTopics(options: { readonly consistency?: Consistency } = {}): Promise<string[]> {
    const r = await this.adminCall('ListTopics', { consistency: CONSISTENCY_WIRE[options.consistency ?? 'linearizable'] });
    return [...r.names];
  }

  async describeTopic(name: string, options: { readonly consistency?: Consistency } = {}): Promise<TopicInfo> {
    const r = await this.adminCall('DescribeTopic', { name, consistency: CONSISTENCY_WIRE[options.consistency ?? 'linearizable'] });
    if (r.topic === null) throw new KeelError({ code: 'UNKNOWN_TOPIC', message: `topic ${name} does not exist`, retriable: false });
    this.cache.update(r.topic, this.env.now());
    return r.topic;
  }

  /**
   * The cluster as one node sees it. With `address`, exactly that node, one attempt (for polling nodes
   * during start-up); without, any node, with the admin retries.
   */
  async clusterStatus(address?: string): Promise<ClusterStatus> {
    if (address === undefined) return this.adminCall('ClusterStatus', {});
    const [a] = parseBootstrap([address]);
    return this.unary(a as string, 'ClusterStatus', {}, this.requestTimeoutMs);
  }

  // ---- consumer groups ---------------------------------------------------------------------------

  /**
   * Commits a consumer group's offsets: per partition, the next offset the group will read (the last
   * record it processed + 1). Offsets only move forward, so a retried or delayed commit is harmless;
   * returns the committed offsets after the commit (a partition already further keeps its offset).
   * Pass the id of the topic the offsets were read from (TopicInfo.id; default: the topic's id now), so
   * that a commit for a topic deleted meanwhile fails with UNKNOWN_TOPIC instead of landing on a topic
   * created again under the same name.
   */
  commitOffsets(group: string, topic: string, offsets: ReadonlyMap<number, number>, options: { readonly topicId?: number; readonly memberId?: string } = {}): Promise<Map<number, number>> {
    return this.writeOffsets(group, topic, offsets, options.topicId, (req) => this.adminCall('CommitOffsets', { ...req, memberId: options.memberId ?? '' }));
  }

  /**
   * A consumer-group member's heartbeat (the consumer sends them; see group-membership.ts): joining
   * (owning nothing), reporting the partitions it reads, or leaving. Says which it may read now.
   */
  memberHeartbeat(request: MemberHeartbeatRequest): Promise<MemberHeartbeatAnswer> {
    return this.adminCall('MemberHeartbeat', request);
  }

  /** A consumer group's committed offsets of a topic, by partition (partitions it never committed are absent). */
  async fetchOffsets(group: string, topic: string, options: { readonly consistency?: Consistency } = {}): Promise<Map<number, number>> {
    const r = await this.adminCall('FetchOffsets', { groupId: group, topic, consistency: CONSISTENCY_WIRE[options.consistency ?? 'linearizable'] });
    return byPartition(r.offsets);
  }

  /**
   * Sets a consumer group's offsets of a topic to exactly `offsets`, backwards too: an operator's reset
   * (NON_EMPTY_GROUP while the group has members: stop its consumers first). Applied at most once, however
   * often it is retried. Returns the offsets after it.
   */
  resetOffsets(group: string, topic: string, offsets: ReadonlyMap<number, number>, options: { readonly topicId?: number } = {}): Promise<Map<number, number>> {
    const requestId = this.env.requestId();
    return this.writeOffsets(group, topic, offsets, options.topicId, (req) => this.adminCall('ResetOffsets', { ...req, requestId }));
  }

  /** A commit or a reset of a group's offsets of one topic (the topic id defaults to the topic's now). */
  private async writeOffsets(
    group: string, topic: string, offsets: ReadonlyMap<number, number>, topicId: number | undefined,
    send: (req: GroupOffsetsRequest) => Promise<{ readonly offsets: readonly PartitionOffset[] }>,
  ): Promise<Map<number, number>> {
    const list = [...offsets].map(([partition, offset]) => ({ partition, offset }));
    if (list.length === 0) return new Map();
    const r = await send({ groupId: group, topic, topicId: topicId ?? (await this.describeTopic(topic)).id, offsets: list });
    return byPartition(r.offsets);
  }

  /** Forgets everything a consumer group committed; false if it had committed nothing. */
  async deleteGroup(group: string): Promise<boolean> {
    return (await this.adminCall('DeleteGroup', { requestId: this.env.requestId(), groupId: group })).deleted;
  }

  /** Consumer groups with committed offsets or members, in name order. */
  async listGroups(options: { readonly consistency?: Consistency } = {}): Promise<string[]> {
    const r = await this.adminCall('ListGroups', { consistency: CONSISTENCY_WIRE[options.consistency ?? 'linearizable'] });
    return [...r.groupIds];
  }

  /** Everything a consumer group committed: topic -> partition -> offset (empty for a group that never committed). */
  async describeGroup(group: string, options: { readonly consistency?: Consistency } = {}): Promise<Map<string, Map<number, number>>> {
    const r = await this.adminCall('DescribeGroup', { groupId: group, consistency: CONSISTENCY_WIRE[options.consistency ?? 'linearizable'] });
    return new Map(r.topics.map((t) => [t.topic, byPartition(t.offsets)]));
  }

  /** A consumer group's members now, in id order, with the topic each reads and the partitions it owns. */
  async groupMembers(group: string, options: { readonly consistency?: Consistency } = {}): Promise<GroupMemberInfo[]> {
    const r = await this.adminCall('DescribeGroup', { groupId: group, consistency: CONSISTENCY_WIRE[options.consistency ?? 'linearizable'] });
    return r.members.map((m) => ({ memberId: m.memberId, topic: m.topic, partitions: [...m.partitions] }));
  }

  /** A fresh idempotent producer identity (one request id for every retry). */
  initProducerId(): Promise<ProducerIdentity> {
    return this.adminCall('InitProducerId', { requestId: this.env.requestId() });
  }

  // ---- partitions --------------------------------------------------------------------------------

  /**
   * Appends one batch to one partition (at its leader, retried until deliveryTimeoutMs). Not idempotent:
   * a retry after a timeout can write the batch twice; use producer() for exactly-once appends.
   */
  async produce(topic: string, records: readonly ProducerRecord[], options: ProduceOptions = {}): Promise<ProduceResult> {
    if (records.length === 0) throw invalidRequest('a produce request needs at least one record');
    const wire = records.map(toWireRecord);
    const tooLarge = beyondEveryTopic(wire.reduce((n, r) => n + wireRecordBytes(r), 0), 'a batch');
    if (tooLarge !== null) throw tooLarge;
    const count = await this.router.partitionCount(topic);
    const key = options.key !== undefined && options.key !== null ? toBytes(options.key) : sharedKey(wire.map((r) => (r.keyNull ? null : r.key)));
    const choice = this.chooser.choose(topic, count, key, options.partition);
    if (!choice.ok) throw choice.error;
    const request: WireProduceRequest = {
      topic, hasPartition: true, partition: choice.partition, records: wire, acks: ACKS_WIRE[options.acks ?? 'all'],
      hasProducer: false, producerId: 0, producerEpoch: 0, baseSequence: 0,
    };
    const res = await this.router.toLeader(topic, choice.partition, this.env.now() + this.deliveryTimeoutMs, (address) => this.produceStream(address).send(request, this.requestTimeoutMs));
    return { partition: choice.partition, baseOffset: res.baseOffset, duplicate: res.duplicate };
  }

  /** Committed records of one partition from `offset` (long-polling up to maxWaitMs), at its leader. */
  async fetch(topic: string, partition: number, offset: number, options: FetchOptions = {}): Promise<FetchResult> {
    checkIndex('partition', partition);
    checkIndex('offset', offset);
    const maxWaitMs = Math.min(Math.max(0, options.maxWaitMs ?? 0), FETCH_WAIT_MS_MAX);
    const maxBytes = Math.min(Math.max(1, options.maxBytes ?? DEFAULTS.fetchBytes), FETCH_BYTES_MAX);
    const request = { topic, partition, offset, maxBytes, maxWaitMs };
    const res = await this.router.toLeader(topic, partition, this.env.now() + this.deliveryTimeoutMs + maxWaitMs, (address) => this.unary(address, 'Fetch', request, this.requestTimeoutMs + maxWaitMs));
    return { records: res.records.map(fromWireRecord), highWatermark: res.highWatermark, logStartOffset: res.logStartOffset };
  }

  /** The earliest offset, the latest (the high watermark), or the first at or after a timestamp. */
  async listOffsets(topic: string, partition: number, spec: OffsetSpec): Promise<ListOffsetsResult> {
    checkIndex('partition', partition);
    const request = { topic, partition, ...offsetSpecWire(spec) };
    return this.router.toLeader(topic, partition, this.env.now() + this.deliveryTimeoutMs, (address) => this.unary(address, 'ListOffsets', request, this.requestTimeoutMs));
  }

  /** Tails a partition from `offset`: `for await (const r of client.subscribe(...))`; break to stop. */
  subscribe(topic: string, partition: number, offset: number, options: SubscribeOptions = {}): Subscription {
    checkIndex('partition', partition);
    checkIndex('offset', offset);
    if (this.closed) throw closedError('the client');
    const maxBytes = Math.min(Math.max(1, options.maxBytes ?? DEFAULTS.fetchBytes), FETCH_BYTES_MAX);
    const s = new Subscription(this.subscriptionHost(), topic, partition, offset, { ...options, maxBytes });
    this.subscriptions.add(s);
    return s;
  }

  /** A batching, pipelined producer (idempotent by default) sharing this client's channels and metadata. */
  producer(options: ProducerOptions = {}): Producer {
    if (this.closed) throw closedError('the client');
    const p = new Producer(this.producerHost(), options);
    this.producers.add(p);
    return p;
  }

  consumer(): Consumer {
    return new Consumer(this);
  }

  /** Ends subscriptions, fails unacknowledged producer records with CLOSED, and closes every channel. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.subscriptions]) void s.return();
    for (const p of [...this.producers]) p.abort();
    for (const s of this.produceStreams.values()) s.close();
    this.produceStreams.clear();
    this.channels.close();
  }

  // ---- plumbing ----------------------------------------------------------------------------------

  /**
   * Leaders for routing come from any node's local metadata image, as Kafka clients' metadata requests do:
   * a stale leader is corrected by the NOT_LEADER hint it answers with, while a linearizable read would
   * wait for the controller, which may be the node that just died. Only "no such topic" is confirmed
   * linearizably (the node asked may not have applied the topic's creation yet).
   */
  private async describeForRouting(topic: string): Promise<TopicInfo> {
    try {
      return await this.describeTopic(topic, { consistency: 'local' });
    } catch (e) {
      if (isKeelError(e) && e.code === 'UNKNOWN_TOPIC') return this.describeTopic(topic);
      throw e;
    }
  }

  private unary<M extends UnaryMethod>(address: string, method: M, request: UnaryMethods[M][0], timeoutMs: number): Promise<UnaryMethods[M][1]> {
    if (this.closed) return Promise.reject(closedError('the client'));
    return unaryCall(this.channels.get(address), address, method, request, Date.now() + timeoutMs);
  }

  /** An admin call at the current admin target, retried elsewhere on NOT_CONTROLLER and transport failures. */
  private async adminCall<M extends UnaryMethod>(method: M, request: UnaryMethods[M][0]): Promise<UnaryMethods[M][1]> {
    const target = this.admin;
    try {
      return await withRetries(this.env, { ...this.backoff, retriesMax: this.retriesMax, deadlineAtMs: this.env.now() + this.deliveryTimeoutMs }, async () => {
        const address = target.current();
        try {
          const r = await this.unary(address, method, request, this.requestTimeoutMs);
          target.answered(address);
          return r;
        } catch (e) {
          if (isKeelError(e)) target.failed(address, e);
          throw e;
        }
      }, (e) => {
        if (!e.retriable || e.code === 'CLOSED' || target.allUnreachable()) return 'fail';
        // A hint, or another address to rotate to: no reason to wait before asking there.
        return e.leaderAddress !== undefined || (e.connectionLevel && e.address !== target.current()) ? 'retryNow' : 'retry';
      });
    } catch (e) {
      if (isKeelError(e) && e.code === 'CONNECTION_FAILED' && target.allUnreachable()) {
        throw new KeelError({ code: 'CONNECTION_FAILED', message: target.unreachableMessage(), grpcStatus: e.grpcStatus });
      }
      throw e;
    }
  }

  private producerHost(): ProducerHost {
    return {
      env: this.env,
      requestTimeoutMs: this.requestTimeoutMs,
      deliveryTimeoutMs: this.deliveryTimeoutMs,
      partitionCount: (topic) => this.router.partitionCount(topic),
      initProducerId: () => this.initProducerId(),
      toLeader: (topic, partition, deadlineAtMs, attempt) => this.router.toLeader(topic, partition, deadlineAtMs, attempt),
      openProduceChannel: (address) => this.openProduceChannel(address),
      producerClosed: (p) => this.producers.delete(p),
    };
  }

  /** The shared produce stream to `address`, reopened after it broke. */
  private produceStream(address: string): ProduceChannel {
    let s = this.produceStreams.get(address);
    if (s === undefined || s.broken) {
      s = this.openProduceChannel(address);
      this.produceStreams.set(address, s);
    }
    return s;
  }

  private openProduceChannel(address: string): ProduceChannel {
    if (this.closed) throw closedError('the client');
    return new ProduceStreamConnection(openProduceStream(this.channels.get(address)), address, this.env);
  }

  private subscriptionHost(): SubscriptionHost {
    return {
      env: this.env,
      backoff: this.backoff,
      retriesMax: this.retriesMax,
      leaderAddress: (topic, partition, avoid) => this.router.leaderAddress(topic, partition, avoid),
      react: (topic, partition, address, e) => this.router.react(topic, partition, address, e),
      open: (address, request, handlers) => this.openSubscription(address, request, handlers),
      subscriptionClosed: (s) => this.subscriptions.delete(s),
    };
  }

  private openSubscription(address: string, request: WireSubscribeRequest, h: StreamHandlers): StreamControl {
    if (this.closed) throw closedError('the client');
    const call = openSubscribe(this.channels.get(address), request);
    let cancelled = false;
    call.on('data', (m) => h.data(m));
    call.on('error', (e) => {
      if (!cancelled) h.error(errorFromStatus(e, address));
    });
    call.on('end', () => {
      if (!cancelled) h.end();
    });
    return {
      cancel: () => {
        cancelled = true;
        call.cancel();
      },
      pause: () => call.pause(),
      resume: () => call.resume(),
    };
  }
}

/** The key every record has, if they all have the same one (so produce() partitions by it). */
function sharedKey(keys: readonly (Uint8Array | null)[]): Uint8Array | null {
  const first = keys[0];
  if (first === undefined || first === null) return null;
  for (const k of keys) {
    if (k === null || k.length !== first.length) return null;
    for (let i = 0; i < k.length; i++) if (k[i] !== first[i]) return null;
  }
  return first;
}

function atLeast(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) throw invalidRequest(`${name} must be a number >= ${min}, got ${value}`);
  return value;
}

function checkIndex(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw invalidRequest(`${name} must be a non-negative integer, got ${n}`);
}

/** Offsets as the wire lists them, by partition. */
function byPartition(offsets: readonly PartitionOffset[]): Map<number, number> {
  return new Map(offsets.map((o) => [o.partition, o.offset]));
}
