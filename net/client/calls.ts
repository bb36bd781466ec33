// The three call shapes of keel.v1.Keel on a grpc-js channel, typed by method: unary calls as promises
// that reject with a KeelError, the server stream (Subscribe) and the bidi stream (ProduceStream).
import * as grpc from '@grpc/grpc-js';
import { KEEL_SERVICE_DEFINITION } from '../client-schema.ts';
import { errorFromStatus } from './errors.ts';
import type { MemberHeartbeatAnswer, MemberHeartbeatRequest } from './group-membership.ts';
import type {
  ClusterStatus, ListOffsetsResult, ProducerIdentity, TopicInfo, WireFetchRequest, WireFetchResponse, WireListOffsetsRequest,
  WireProduceRequest, WireProduceResponse, WireProduceStreamRequest, WireProduceStreamResponse, WireSubscribeRequest, WireSubscribeResponse,
} from './wire.ts';

/** Request and response of each unary method. */
export interface UnaryMethods {
  Produce: [WireProduceRequest, WireProduceResponse];
  Fetch: [WireFetchRequest, WireFetchResponse];
  ListOffsets: [WireListOffsetsRequest, ListOffsetsResult];
  InitProducerId: [{ readonly requestId: string }, ProducerIdentity];
  CreateTopic: [{ readonly requestId: string; readonly name: string; readonly partitions: number; readonly replicationFactor: number; readonly configs: Readonly<Record<string, string>> }, { readonly topic: TopicInfo | null }];
  DeleteTopic: [{ readonly requestId: string; readonly name: string }, Record<string, never>];
  CreatePartitions: [{ readonly requestId: string; readonly name: string; readonly partitions: number }, { readonly topic: TopicInfo | null }];
  AlterTopicConfigs: [{ readonly requestId: string; readonly name: string; readonly configs: Readonly<Record<string, string>>; readonly deleteConfigs: readonly string[] }, { readonly topic: TopicInfo | null }];
  ListTopics: [{ readonly consistency: number }, { readonly names: readonly string[]; readonly metadataVersion: number }];
  DescribeTopic: [{ readonly name: string; readonly consistency: number }, { readonly topic: TopicInfo | null; readonly metadataVersion: number }];
  ClusterStatus: [Record<string, never>, ClusterStatus];
  CommitOffsets: [GroupOffsetsRequest & { readonly memberId: string }, { readonly offsets: readonly PartitionOffset[] }];
  FetchOffsets: [{ readonly groupId: string; readonly topic: string; readonly consistency: number }, { readonly offsets: readonly PartitionOffset[]; readonly metadataVersion: number }];
  ResetOffsets: [GroupOffsetsRequest & { readonly requestId: string }, { readonly offsets: readonly PartitionOffset[] }];
  DeleteGroup: [{ readonly requestId: string; readonly groupId: string }, { readonly deleted: boolean }];
  ListGroups: [{ readonly consistency: number }, { readonly groupIds: readonly string[]; readonly metadataVersion: number }];
  DescribeGroup: [{ readonly groupId: string; readonly consistency: number }, {
    readonly topics: readonly { readonly topic: string; readonly offsets: readonly PartitionOffset[] }[];
    readonly members: readonly GroupMemberInfo[];
    readonly metadataVersion: number;
  }];
  MemberHeartbeat: [MemberHeartbeatRequest, MemberHeartbeatAnswer];
}

/** A member of a consumer group: the topic it reads and the partitions it owns. */
export interface GroupMemberInfo {
  readonly memberId: string;
  readonly topic: string;
  readonly partitions: readonly number[];
}

/** A commit or reset of a consumer group's offsets of one topic (the id pins the topic). */
export interface GroupOffsetsRequest {
  readonly groupId: string;
  readonly topic: string;
  readonly topicId: number;
  readonly offsets: readonly PartitionOffset[];
}

/** A partition and the next offset a consumer group will read there. */
export interface PartitionOffset {
  readonly partition: number;
  readonly offset: number;
}

export type UnaryMethod = keyof UnaryMethods;

function method(name: string): grpc.MethodDefinition<unknown, unknown> {
  const m = KEEL_SERVICE_DEFINITION[name];
  if (m === undefined) throw new Error(`client.proto has no method ${name}`);
  return m;
}

/** One unary call with a deadline (ms since the epoch); a failure rejects with a KeelError. */
export function unaryCall<M extends UnaryMethod>(client: grpc.Client, address: string, name: M, request: UnaryMethods[M][0], deadlineMs: number): Promise<UnaryMethods[M][1]> {
  const m = method(name);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, request, new grpc.Metadata(), { deadline: deadlineMs }, (err, res) => {
      if (err !== null) reject(errorFromStatus(err, address));
      else resolve(res as UnaryMethods[M][1]);
    });
  });
}

export type SubscribeCall = grpc.ClientReadableStream<WireSubscribeResponse>;
export type ProduceStreamCall = grpc.ClientDuplexStream<WireProduceStreamRequest, WireProduceStreamResponse>;

/** Opens Subscribe: long-lived, so no deadline (keepalive finds dead connections). */
export function openSubscribe(client: grpc.Client, request: WireSubscribeRequest): SubscribeCall {
  const m = method('Subscribe');
  return client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, request, new grpc.Metadata(), {}) as SubscribeCall;
}

/** Opens ProduceStream: long-lived, so no deadline; each request has its own timer instead. */
export function openProduceStream(client: grpc.Client): ProduceStreamCall {
  const m = method('ProduceStream');
  return client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, new grpc.Metadata(), {}) as ProduceStreamCall;
}
