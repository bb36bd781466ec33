// The client API (keel.v1.Keel, net/proto/keel/v1/client.proto) on a KeelNode: a GrpcService hosted by
// the node's one gRPC server next to the peer service. Requests are checked and converted in
// net/client-convert.ts, errors mapped in net/client-errors.ts; the streams live in
// net/produce-stream.ts and net/subscribe-stream.ts.
//
// Bytes that do not decode as the request message are not a deserializer exception (grpc-js would make
// that INTERNAL): the server definition's deserializers hand a MalformedRequest to the handler, which
// answers INVALID_ARGUMENT / INVALID_REQUEST like any other invalid request.
import { randomUUID } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import type { Versioned } from '../broker/controller-service.ts';
import type { KeelNode } from '../broker/keel-node.ts';
import type { FetchResponse, ProduceResponse } from '../broker/partition/partition-service.ts';
import { SILENT, type Logger } from '../broker/ports.ts';
import type { HeartbeatAnswer } from '../broker/group-coordinator.ts';
import type { CommitOffsetsResult, PartitionOffset } from '../controller/group-offsets.ts';
import type { GroupDescription } from '../controller/consumer-groups.ts';
import type { TopicDescription } from '../controller/metadata.ts';
import type { NodeId } from '../raft/types.ts';
import { CLIENT_SERVICE_DEFAULTS, describeThrown, pollWaitMs, type ClientServiceContext, type ClientServiceLimits, type OpenCall } from './client-calls.ts';
import {
  decodeAlterTopicConfigsRequest, decodeCommitOffsetsRequest, decodeCreatePartitionsRequest, decodeCreateTopicRequest, decodeDeleteGroupRequest, decodeDescribeGroupRequest, decodeDeleteTopicRequest, decodeDescribeTopicRequest, decodeEmptyRequest,
  decodeFetchOffsetsRequest, decodeFetchRequest,
  decodeInitProducerIdRequest, decodeListGroupsRequest, decodeMemberHeartbeatRequest, decodeListOffsetsRequest, decodeListTopicsRequest, decodeProduceRequest, decodeResetOffsetsRequest,
  encodeDeletedTopic, encodeFetchResponse, encodeProduceResponse, encodeProducerId, encodeTopicAnswer, encodeTopicInfo,
  MalformedRequest, type Decoded, type Encoded,
} from './client-convert.ts';
import { keelError, toStatus, type KeelError } from './client-errors.ts';
import { KEEL_SERVICE_DEFINITION } from './client-schema.ts';
import type { GrpcService } from './grpc-server.ts';
import { ProduceStreamCall } from './produce-stream.ts';
import { SubscribeCall } from './subscribe-stream.ts';

/** KEEL_SERVICE_DEFINITION with request deserializers that never throw. */
export const KEEL_SERVER_DEFINITION: grpc.ServiceDefinition = Object.fromEntries(
  Object.entries(KEEL_SERVICE_DEFINITION).map(([name, m]) => [name, {
    ...m,
    requestDeserialize: (bytes: Buffer): unknown => {
      try {
        return m.requestDeserialize(bytes);
      } catch (err) {
        return new MalformedRequest(err instanceof Error ? err.message : String(err));
      }
    },
  }]),
);

/** What the node answers: a value, or an error value of any layer. */
type NodeResult<V> = { readonly ok: true; readonly value: V } | { readonly ok: false; readonly error: KeelError };
type Run<T, V> = (req: T, done: (r: NodeResult<V>) => void, call: grpc.ServerUnaryCall<unknown, unknown>) => void;
/** Turns the node's value into the response message (or refuses it); runs guarded, see `unary`. */
type Encode<T, V> = (value: V, req: T) => Encoded;

const ok = (value: object): Encoded => ({ ok: true, value });

interface ListOffsetsResult { readonly offset: number; readonly logStartOffset: number; readonly highWatermark: number }

export interface ClientServiceOptions {
  readonly logger?: Logger;
  readonly limits?: Partial<ClientServiceLimits>;
  /** Request ids for admin requests sent without one (default: random UUIDs). */
  readonly newRequestId?: () => string;
}

const SHUTTING_DOWN: KeelError = keelError('BROKER_NOT_AVAILABLE', 'the node is shutting down; use another node');

export class ClientService implements GrpcService {
  private readonly open = new Set<OpenCall>();
  private closed = false;
  private readonly ctx: ClientServiceContext;
  private readonly newRequestId: () => string;

  constructor(readonly node: KeelNode, options: ClientServiceOptions = {}) {
    const limits = { ...CLIENT_SERVICE_DEFAULTS, ...options.limits };
    this.newRequestId = options.newRequestId ?? (() => `auto-${randomUUID()}`);
    this.ctx = {
      node,
      logger: options.logger ?? SILENT,
      limits,
      addressOf: (id: NodeId) => node.metadata.brokers.get(id)?.address,
      track: (call) => {
        this.open.add(call);
        return () => this.open.delete(call);
      },
    };
  }

  /** Calls open now (unary calls waiting for the node, and streams). */
  get openCalls(): number {
    return this.open.size;
  }

  register(server: grpc.Server): void {
    const n = this.node;
    const addressOf = this.ctx.addressOf;
    const handlers: grpc.UntypedServiceImplementation = {
      Produce: this.unary(decodeProduceRequest, (req, done) => n.produce(req, done), (v: ProduceResponse) => ok(encodeProduceResponse(v))),
      ProduceStream: (call: grpc.ServerDuplexStream<unknown, unknown>) => this.stream(call, () => new ProduceStreamCall(call, this.ctx)),
      Fetch: this.unary(decodeFetchRequest, (req, done, call) => {
        n.fetch({ ...req, maxWaitMs: Math.max(0, pollWaitMs(req.maxWaitMs, call, this.ctx.limits)) }, done);
      }, (v: FetchResponse) => ok(encodeFetchResponse(v)), (req) => req.maxWaitMs),
      Subscribe: (call: grpc.ServerWritableStream<unknown, unknown>) => this.stream(call, () => new SubscribeCall(call, this.ctx)),
      ListOffsets: this.unary(decodeListOffsetsRequest, (req, done) => n.listOffsets(req, done), (v: ListOffsetsResult) => ok(v)),
      InitProducerId: this.unary((m) => decodeInitProducerIdRequest(m, this.newRequestId), (req, done) => n.initProducerId(req, done), (v) => encodeProducerId(v)),
      CreateTopic: this.unary((m) => decodeCreateTopicRequest(m, this.newRequestId), (req, done) => n.createTopic(req, done), (v, req) => encodeTopicAnswer(v, req.name, addressOf, 'CreateTopic')),
      DeleteTopic: this.unary((m) => decodeDeleteTopicRequest(m, this.newRequestId), (req, done) => n.deleteTopic(req, done), (v, req) => encodeDeletedTopic(v, req.name)),
      CreatePartitions: this.unary((m) => decodeCreatePartitionsRequest(m, this.newRequestId), (req, done) => n.createPartitions(req, done), (v, req) => encodeTopicAnswer(v, req.name, addressOf, 'CreatePartitions')),
      AlterTopicConfigs: this.unary((m) => decodeAlterTopicConfigsRequest(m, this.newRequestId), (req, done) => n.alterTopicConfigs(req, done), (v, req) => encodeTopicAnswer(v, req.name, addressOf, 'AlterTopicConfigs')),
      ListTopics: this.unary(decodeListTopicsRequest, (consistency, done) => n.listTopics(consistency, done), (v: Versioned<string[]>) => ok({ names: v.value, metadataVersion: v.version })),
      DescribeTopic: this.unary(decodeDescribeTopicRequest, (req, done) => n.describeTopic(req.name, req.consistency, done), (v: Versioned<TopicDescription>) => {
        return ok({ topic: encodeTopicInfo(v.value, addressOf), metadataVersion: v.version });
      }),
      ClusterStatus: this.unary((m) => decodeEmptyRequest('ClusterStatusRequest', m), (_req, done) => done({ ok: true, value: null }), () => ok(this.clusterStatus())),
      CommitOffsets: this.unary(decodeCommitOffsetsRequest, (req, done) => n.commitOffsets(req, done), (v: CommitOffsetsResult) => ok({ offsets: v.offsets })),
      FetchOffsets: this.unary(decodeFetchOffsetsRequest, (req, done) => n.committedOffsets(req.group, req.topic, req.consistency, done), (v: Versioned<PartitionOffset[]>) => ok({ offsets: v.value, metadataVersion: v.version })),
      ResetOffsets: this.unary((m) => decodeResetOffsetsRequest(m, this.newRequestId), (req, done) => n.resetOffsets(req, done), (v: CommitOffsetsResult) => ok({ offsets: v.offsets })),
      DeleteGroup: this.unary((m) => decodeDeleteGroupRequest(m, this.newRequestId), (req, done) => n.deleteGroup(req, done), (v: { deleted: boolean }) => ok({ deleted: v.deleted })),
      ListGroups: this.unary(decodeListGroupsRequest, (consistency, done) => n.listGroups(consistency, done), (v: Versioned<string[]>) => ok({ groupIds: v.value, metadataVersion: v.version })),
      DescribeGroup: this.unary(decodeDescribeGroupRequest, (req, done) => n.describeGroup(req.group, req.consistency, done), (v: Versioned<GroupDescription>) => ok({ topics: v.value.topics, members: v.value.members, metadataVersion: v.version })),
      MemberHeartbeat: this.unary(decodeMemberHeartbeatRequest, (req, done) => n.memberHeartbeat(req, done), (v: HeartbeatAnswer) => ok(v)),
    };
    server.addService(KEEL_SERVER_DEFINITION, handlers);
  }

  /** Ends every open call with BROKER_NOT_AVAILABLE and refuses new ones (the node is stopping). */
  close(): void {
    this.closed = true;
    for (const call of [...this.open]) call.abort(SHUTTING_DOWN);
    this.open.clear();
  }

  clusterStatus(): Record<string, unknown> {
    const n = this.node;
    const ready = n.readiness();
    return {
      nodeId: n.config.nodeId,
      controllerLeader: n.controller.leader(),
      metadataVersion: n.metadata.version,
      brokers: [...n.metadata.brokers.values()].sort((a, b) => a.id - b.id).map((b) => ({
        id: b.id, address: b.address, epoch: b.epoch, fenced: b.fenced, shuttingDown: b.shuttingDown, decommissioned: b.decommissioned,
      })),
      ready: ready.ready,
      readyReason: ready.reason,
      topics: n.metadata.listTopics(),
    };
  }

  /** The refusal of a call that cannot start now, or null. */
  private refusal(): KeelError | null {
    if (this.closed) return SHUTTING_DOWN;
    const max = this.ctx.limits.openCallsMax;
    if (this.open.size >= max) return keelError('TOO_MANY_REQUESTS', `${max} calls are open on this node; retry later`);
    return null;
  }

  private stream<C extends grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>>(call: C, start: () => void): void {
    const refused = this.refusal();
    if (refused !== null) {
      call.emit('error', toStatus(refused, this.ctx.addressOf));
      return;
    }
    start();
  }

  /**
   * A unary handler: decode, run against the node, answer once. The answer is dropped if the call is
   * already over (cancelled, past its deadline); a node that never answers is cut off after
   * callTimeoutMs (+ extraWaitMs for long polls), and a closing service answers every open call.
   *
   * The node calls `done` from inside its own turn (a Raft apply, a frame): nothing thrown while
   * encoding or answering may reach it, or the node's state would be torn mid-turn. Such a throw is a
   * bug here; it is logged and the client gets INTERNAL.
   */
  private unary<T, V>(decode: (m: unknown) => Decoded<T>, run: Run<T, V>, encode: Encode<T, V>, extraWaitMs: (req: T) => number = () => 0): grpc.handleUnaryCall<unknown, unknown> {
    return (call, callback) => {
      const answer = (r: Encoded): void => {
        if (call.cancelled) return;
        if (r.ok) callback(null, r.value);
        else callback(toStatus(r.error, this.ctx.addressOf));
      };
      const refused = this.refusal();
      if (refused !== null) return answer({ ok: false, error: refused });
      const d = decode(call.request);
      if (!d.ok) return answer(d);
      const req = d.value;
      let finished = false;
      const finish = (r: NodeResult<V> | null): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        untrack();
        if (r === null) return;
        try {
          answer(r.ok ? encode(r.value, req) : r);
        } catch (err) {
          this.ctx.logger.error('answering a client request threw', { method: call.getPath(), error: describeThrown(err) });
          try {
            answer({ ok: false, error: keelError('INTERNAL', `the node could not encode its answer: ${describeThrown(err)}`) });
          } catch {
            // the call is beyond answering; it ends at its deadline or when the client goes away
          }
        }
      };
      const untrack = this.ctx.track({ abort: (error) => finish({ ok: false, error }) });
      const timeoutMs = this.ctx.limits.callTimeoutMs + extraWaitMs(req);
      const timer = setTimeout(() => finish({ ok: false, error: keelError('REQUEST_TIMED_OUT', `no answer from the node within ${timeoutMs} ms; the outcome is unknown`) }), timeoutMs);
      timer.unref();
      call.on('cancelled', () => finish(null));
      try {
        run(req, finish, call);
      } catch (err) {
        this.ctx.logger.error('client request threw', { method: call.getPath(), error: describeThrown(err) });
        finish({ ok: false, error: keelError('INTERNAL', `the node failed the request: ${describeThrown(err)}`) });
      }
    };
  }
}
