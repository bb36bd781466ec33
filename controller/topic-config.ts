// Topic names and configurations: what is accepted, and the documented defaults.
//
//   retention.ms         how long records are kept               default 604800000 (7 days); -1 = forever
//   retention.bytes      size a partition's log is trimmed to    default 268435456 (256 MiB); -1 = unbounded
//                        (differs from Kafka's -1: Keel keeps partition logs in memory, see README)
//   max.message.bytes    largest record batch accepted           default 1048588 (Kafka's)
//   min.insync.replicas  replicas that must be live for acks=all default 1; 1..replication factor
import { adminError, type AdminError } from './errors.ts';

export interface TopicConfig {
  readonly 'retention.ms': number;
  readonly 'retention.bytes': number;
  readonly 'max.message.bytes': number;
  readonly 'min.insync.replicas': number;
}

export const TOPIC_CONFIG_DEFAULTS: TopicConfig = {
  'retention.ms': 604_800_000,
  'retention.bytes': 268_435_456,
  'max.message.bytes': 1_048_588,
  'min.insync.replicas': 1,
};

export const TOPIC_NAME_CHARS_MAX = 249;
export const PARTITIONS_MAX = 10_000;
/**
 * Partition replicas the cluster takes per broker: every replica is a Raft group that ticks and
 * heartbeats, and past a few thousand per node a laptop's cores go to that alone (a 10,000-partition
 * topic on three nodes left the controller without a leader for minutes). Redpanda caps partitions per
 * core the same way.
 */
export const PARTITION_REPLICAS_PER_BROKER_MAX = 1_000;
const NAME_PATTERN = /^[a-zA-Z0-9._-]{1,249}$/;

export function validateTopicName(name: unknown): AdminError | null {
  if (typeof name !== 'string') return { code: 'INVALID_TOPIC', message: 'topic name must be a string' };
  if (name === '.' || name === '..') return { code: 'INVALID_TOPIC', message: `topic name cannot be "${name}"` };
  if (!NAME_PATTERN.test(name)) {
    return { code: 'INVALID_TOPIC', message: `invalid topic name "${name.length > 60 ? `${name.slice(0, 60)}…` : name}": use 1 to ${TOPIC_NAME_CHARS_MAX} characters from [a-zA-Z0-9._-]` };
  }
  return null;
}

/**
 * Names that differ only in '.' against '_' collide (as Kafka refuses them): metrics and tools that
 * turn one into the other would mix the two topics up.
 */
export function topicNameCollisionKey(name: string): string {
  return name.replaceAll('.', '_');
}

export function validatePartitions(n: unknown): AdminError | null {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > PARTITIONS_MAX) {
    return { code: 'INVALID_PARTITIONS', message: `partitions must be an integer from 1 to ${PARTITIONS_MAX}, got ${String(n)}` };
  }
  return null;
}

/** Replication factor: 1 up to the number of brokers that can hold a replica now. */
export function validateReplicationFactor(rf: unknown, liveBrokers: number): AdminError | null {
  if (typeof rf !== 'number' || !Number.isSafeInteger(rf) || rf < 1) {
    return { code: 'INVALID_REPLICATION_FACTOR', message: `replication factor must be a positive integer, got ${String(rf)}` };
  }
  if (rf > liveBrokers) {
    return { code: 'INVALID_REPLICATION_FACTOR', message: `replication factor ${rf} exceeds the ${liveBrokers} available broker${liveBrokers === 1 ? '' : 's'}` };
  }
  return null;
}

/** The largest max.message.bytes a topic may have: no record batch is ever larger. */
export const MESSAGE_BYTES_LIMIT = 64 * 1024 * 1024;

const RANGES: Record<keyof TopicConfig, readonly [number, number]> = {
  'retention.ms': [-1, Number.MAX_SAFE_INTEGER],
  'retention.bytes': [-1, Number.MAX_SAFE_INTEGER],
  'max.message.bytes': [1, MESSAGE_BYTES_LIMIT],
  'min.insync.replicas': [1, 1_000],
};

/** Merges user overrides over the defaults; unknown keys and out-of-range values are refused. */
/** INVALID_CONFIG for a name that is not a topic config, else null. */
export function unknownConfig(key: string): AdminError | null {
  // Own keys only: names such as `constructor` or `__proto__` are unknown configs, not inherited ones.
  return Object.hasOwn(RANGES, key) ? null : { code: 'INVALID_CONFIG', message: `unknown config "${key}" (known: ${Object.keys(RANGES).join(', ')})` };
}

export function resolveTopicConfig(overrides: unknown, replicationFactor: number): { ok: true; value: TopicConfig } | { ok: false; error: AdminError } {
  if (overrides === undefined || overrides === null) return { ok: true, value: TOPIC_CONFIG_DEFAULTS };
  if (typeof overrides !== 'object' || Array.isArray(overrides)) return adminError('INVALID_CONFIG', 'configs must be an object of key -> value');
  const out: Record<string, number> = Object.assign(Object.create(null) as Record<string, number>, TOPIC_CONFIG_DEFAULTS);
  for (const [key, raw] of Object.entries(overrides as Record<string, unknown>)) {
    const unknown = unknownConfig(key);
    if (unknown !== null) return { ok: false, error: unknown };
    const range = RANGES[key as keyof TopicConfig];
    // Decimal integers only (as Kafka): no '0x10', '1e3' or padded strings.
    const v = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < range[0] || v > range[1] || (v === 0 && key.startsWith('retention'))) {
      return adminError('INVALID_CONFIG', `config ${key}=${String(raw)} is not an integer in [${range[0]}, ${range[1]}]${key.startsWith('retention') ? ' other than 0' : ''}`);
    }
    out[key] = v;
  }
  if ((out['min.insync.replicas'] as number) > replicationFactor) {
    return adminError('INVALID_CONFIG', `min.insync.replicas ${out['min.insync.replicas']} exceeds the replication factor ${replicationFactor}`);
  }
  return { ok: true, value: { ...out } as unknown as TopicConfig };
}
