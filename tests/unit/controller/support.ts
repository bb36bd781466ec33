// Helpers shared by the controller unit tests: a MetadataState with registered and unfenced brokers,
// commands wrapped as log entries, and a view of the state that leaves out the version, the digest and
// the request-id cache (so "did anything change?" can be asked of the image itself).
import { encodeCommand, type Command } from '../../../controller/commands.ts';
import type { AdminError, AdminErrorCode } from '../../../controller/errors.ts';
import { MetadataState, type ApplyResult } from '../../../controller/metadata.ts';
import { index, nodeId, term, type Entry, type NodeId } from '../../../raft/types.ts';

export const ids = (...ns: number[]): NodeId[] => ns.map(nodeId);

/** 1..n as broker ids. */
export const brokerIds = (n: number): NodeId[] => Array.from({ length: n }, (_, k) => nodeId(k + 1));

export function entryOf(i: number, c: Command | Uint8Array): Entry {
  return { term: term(1), index: index(i), type: 'normal', data: c instanceof Uint8Array ? c : encodeCommand(c) };
}

export const register = (broker: number, incarnation = 1, address = `host-${broker}:9092`): Command => ({ type: 'register-broker', broker: nodeId(broker), address, incarnation });
export const fence = (broker: number, epoch: number): Command => ({ type: 'fence-broker', broker: nodeId(broker), epoch });
export const unfence = (broker: number, epoch: number): Command => ({ type: 'unfence-broker', broker: nodeId(broker), epoch });
export const shutdown = (broker: number, epoch: number): Command => ({ type: 'shutdown-broker', broker: nodeId(broker), epoch });
export const decommission = (requestId: string, broker: number): Command => ({ type: 'decommission-broker', requestId, broker: nodeId(broker) });
export const createTopic = (requestId: string, name: string, partitions: number, replicationFactor: number, configs: Readonly<Record<string, unknown>> = {}): Command => ({ type: 'create-topic', requestId, name, partitions, replicationFactor, configs });
export const deleteTopic = (requestId: string, name: string): Command => ({ type: 'delete-topic', requestId, name });
export const addPartitions = (requestId: string, name: string, partitions: number, replicasPerBrokerMax?: number): Command =>
  ({ type: 'add-partitions', requestId, name, partitions, ...(replicasPerBrokerMax === undefined ? {} : { replicasPerBrokerMax }) });
export const alterConfigs = (requestId: string, name: string, configs: Readonly<Record<string, unknown>>, deleteConfigs?: readonly string[]): Command =>
  ({ type: 'alter-topic-configs', requestId, name, configs, ...(deleteConfigs === undefined ? {} : { deleteConfigs }) });
export const reportLeader = (group: number, leader: number, t: number): Command => ({ type: 'report-leader', group, leader: nodeId(leader), term: t });
export const reassignmentDone = (group: number, replicas: readonly number[]): Command => ({ type: 'reassignment-done', group, replicas: ids(...replicas) });
export const initProducerId = (requestId: string): Command => ({ type: 'init-producer-id', requestId });
export const commitOffsets = (consumerGroup: string, topic: string, topicId: number, offsets: readonly { partition: number; offset: number }[]): Command => ({ type: 'commit-offsets', consumerGroup, topic, topicId, offsets });

/** The value of an ok result; fails the test (by throwing) on an error result. */
export function valueOf<T = unknown>(r: ApplyResult | unknown): T {
  const res = r as ApplyResult;
  if (!res.ok) throw new Error(`expected ok, got ${res.error.code}: ${res.error.message}`);
  return res.value as T;
}

/** The error code of an error result; fails the test (by throwing) on an ok result. */
export function codeOf(r: ApplyResult | AdminError | null | unknown): AdminErrorCode {
  if (r !== null && typeof r === 'object' && 'code' in r) return (r as AdminError).code;
  const res = r as ApplyResult;
  if (res.ok) throw new Error(`expected an error, got ok: ${JSON.stringify(res.value)}`);
  return res.error.code;
}

/** Registers brokers 1..n (incarnation 1) and unfences each; returns each broker's epoch. */
export function withBrokers(m: MetadataState, n: number): Map<NodeId, number> {
  const epochs = new Map<NodeId, number>();
  for (const b of brokerIds(n)) {
    const { epoch } = valueOf<{ epoch: number }>(m.applyCommand(register(b)));
    valueOf(m.applyCommand(unfence(b, epoch)));
    epochs.set(b, epoch);
  }
  return epochs;
}

/** A fresh state with brokers 1..n registered and unfenced. */
export function clusterOf(n: number): { m: MetadataState; epochs: Map<NodeId, number> } {
  const m = new MetadataState();
  const epochs = withBrokers(m, n);
  return { m, epochs };
}

/** The metadata image without version, digest and the request-id cache, as comparable JSON. */
export function image(m: MetadataState): unknown {
  const snap = JSON.parse(new TextDecoder().decode(m.snapshot())) as Record<string, unknown>;
  delete snap['version'];
  delete snap['digest'];
  delete snap['requests'];
  return snap;
}
