// The metadata log's records: what the controller leader proposes and every replica applies. Encoded as
// small JSON documents (metadata changes are rare); decoding validates shape, since log bytes come from
// disk and peers.
import type { NodeId } from '../raft/types.ts';
import type { PartitionOffset } from './group-offsets.ts';

export type GroupId = number;

export type Command =
  | { readonly type: 'register-broker'; readonly broker: NodeId; readonly address: string; readonly incarnation: number }
  | { readonly type: 'fence-broker'; readonly broker: NodeId; readonly epoch: number }
  | { readonly type: 'unfence-broker'; readonly broker: NodeId; readonly epoch: number }
  | { readonly type: 'shutdown-broker'; readonly broker: NodeId; readonly epoch: number }
  | { readonly type: 'decommission-broker'; readonly requestId: string; readonly broker: NodeId }
  /**
   * `replicasPerBrokerMax`: the bound on partition replicas per broker the proposer asks for, enforced when
   * the command applies (so a retry under the same request id gets the same answer); absent in commands
   * logged before the bound existed, which apply as they did.
   */
  | { readonly type: 'create-topic'; readonly requestId: string; readonly name: string; readonly partitions: number; readonly replicationFactor: number; readonly configs: Readonly<Record<string, unknown>>; readonly replicasPerBrokerMax?: number }
  | { readonly type: 'delete-topic'; readonly requestId: string; readonly name: string }
  /** Sets these configs of a topic and sets `deleteConfigs` back to their defaults; the others keep their values. */
  | { readonly type: 'alter-topic-configs'; readonly requestId: string; readonly name: string; readonly configs: Readonly<Record<string, unknown>>; readonly deleteConfigs?: readonly string[] }
  /** Grows a topic to `partitions` partitions (never shrinks it), placed as at creation. */
  | { readonly type: 'add-partitions'; readonly requestId: string; readonly name: string; readonly partitions: number; readonly replicasPerBrokerMax?: number }
  | { readonly type: 'report-leader'; readonly group: GroupId; readonly leader: NodeId; readonly term: number }
  | { readonly type: 'reassignment-done'; readonly group: GroupId; readonly replicas: readonly NodeId[] }
  | { readonly type: 'init-producer-id'; readonly requestId: string }
  /** `memberId`: the committing member, which must own every partition named (absent: a reader outside membership, refused while the group has members). */
  | { readonly type: 'commit-offsets'; readonly consumerGroup: string; readonly topic: string; readonly topicId: number; readonly offsets: readonly PartitionOffset[]; readonly memberId?: string }
  /** An operator moving a group's offsets anywhere, backwards too (commits only move them forward). */
  | { readonly type: 'reset-offsets'; readonly requestId: string; readonly consumerGroup: string; readonly topic: string; readonly topicId: number; readonly offsets: readonly PartitionOffset[] }
  | { readonly type: 'delete-group'; readonly requestId: string; readonly consumerGroup: string }
  /**
   * A group member's heartbeat that changes membership (proposed by the controller leader only then): it
   * joins, lets go of partitions it no longer reports owning, and is given free partitions of its share.
   */
  | { readonly type: 'member-heartbeat'; readonly consumerGroup: string; readonly memberId: string; readonly topic: string; readonly topicId: number; readonly owned: readonly number[] }
  /** A member left, or the controller leader found its session lapsed. */
  | { readonly type: 'leave-group'; readonly consumerGroup: string; readonly memberId: string }
  /**
   * The controller leader found a group without members idle for the offsets retention: its offsets go,
   * unless they changed after metadata version `changedAt` (a commit that raced the expiry) or it has members.
   */
  | { readonly type: 'expire-group'; readonly consumerGroup: string; readonly changedAt: number };

export type CommandType = Command['type'];

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeCommand(c: Command): Uint8Array {
  return encoder.encode(JSON.stringify(c));
}

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown, max = 1_024): v is string => typeof v === 'string' && v.length <= max;

/**
 * The shape of a commit or reset of group offsets. The consumer group, topic and numbers are validated at
 * apply (with stable error codes).
 */
function isOffsetsShape(d: Record<string, unknown>): boolean {
  return typeof d['consumerGroup'] === 'string' && typeof d['topic'] === 'string' && isId(d['topicId']) && Array.isArray(d['offsets'])
    && (d['offsets'] as unknown[]).every((o) => typeof o === 'object' && o !== null && typeof (o as { partition?: unknown }).partition === 'number' && typeof (o as { offset?: unknown }).offset === 'number');
}

/** Records that change only consumer groups' offsets or members (nothing any node hosts). */
export function isGroupOffsetsCommand(c: Command): boolean {
  return c.type === 'commit-offsets' || c.type === 'reset-offsets' || c.type === 'delete-group' || c.type === 'member-heartbeat' || c.type === 'leave-group' || c.type === 'expire-group';
}

/** The command, or undefined if the bytes are not a well-formed command (treated as a no-op). */
export function decodeCommand(bytes: Uint8Array): Command | undefined {
  let doc: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(decoder.decode(bytes));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    doc = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const d = doc;
  switch (d['type']) {
    case 'register-broker':
      return isId(d['broker']) && isStr(d['address']) && isCount(d['incarnation']) ? (d as Command) : undefined;
    case 'fence-broker':
    case 'unfence-broker':
    case 'shutdown-broker':
      return isId(d['broker']) && isCount(d['epoch']) ? (d as Command) : undefined;
    case 'decommission-broker':
      return isStr(d['requestId']) && isId(d['broker']) ? (d as Command) : undefined;
    case 'create-topic':
      // The name and numbers are validated at apply (with stable error codes); here only the shape.
      return isStr(d['requestId']) && typeof d['name'] === 'string' && typeof d['partitions'] === 'number' && typeof d['replicationFactor'] === 'number' && typeof d['configs'] === 'object' && d['configs'] !== null
        && (d['replicasPerBrokerMax'] === undefined || isCount(d['replicasPerBrokerMax'])) ? (d as Command) : undefined;
    case 'delete-topic':
      return isStr(d['requestId']) && typeof d['name'] === 'string' ? (d as Command) : undefined;
    case 'alter-topic-configs':
      return isStr(d['requestId']) && typeof d['name'] === 'string' && typeof d['configs'] === 'object' && d['configs'] !== null && !Array.isArray(d['configs'])
        && (d['deleteConfigs'] === undefined || (Array.isArray(d['deleteConfigs']) && (d['deleteConfigs'] as unknown[]).every((k) => typeof k === 'string'))) ? (d as Command) : undefined;
    case 'add-partitions':
      return isStr(d['requestId']) && typeof d['name'] === 'string' && typeof d['partitions'] === 'number' && (d['replicasPerBrokerMax'] === undefined || isCount(d['replicasPerBrokerMax'])) ? (d as Command) : undefined;
    case 'report-leader':
      return isCount(d['group']) && isCount(d['leader']) && isCount(d['term']) ? (d as Command) : undefined;
    case 'reassignment-done':
      return isCount(d['group']) && Array.isArray(d['replicas']) && (d['replicas'] as unknown[]).every(isId) ? (d as Command) : undefined;
    case 'init-producer-id':
      return isStr(d['requestId']) ? (d as Command) : undefined;
    case 'commit-offsets':
      return isOffsetsShape(d) && (d['memberId'] === undefined || typeof d['memberId'] === 'string') ? (d as Command) : undefined;
    case 'reset-offsets':
      return isStr(d['requestId']) && isOffsetsShape(d) ? (d as Command) : undefined;
    case 'delete-group':
      return isStr(d['requestId']) && typeof d['consumerGroup'] === 'string' ? (d as Command) : undefined;
    case 'member-heartbeat':
      return typeof d['consumerGroup'] === 'string' && typeof d['memberId'] === 'string' && typeof d['topic'] === 'string' && isId(d['topicId'])
        && Array.isArray(d['owned']) && (d['owned'] as unknown[]).every(isCount) ? (d as Command) : undefined;
    case 'leave-group':
      return typeof d['consumerGroup'] === 'string' && typeof d['memberId'] === 'string' ? (d as Command) : undefined;
    case 'expire-group':
      return typeof d['consumerGroup'] === 'string' && isCount(d['changedAt']) ? (d as Command) : undefined;
    default:
      return undefined;
  }
}
