// Requests that must reach a partition's leader (produce, fetch, list offsets, subscribe): where to send
// them, and what to do when the answer says "not here". Leaders come from the metadata cache, filled by
// DescribeTopic on a miss; a NOT_LEADER hint is believed at once (retry immediately, no backoff); an
// unreachable or leaderless partition makes the next attempt go to another node, whose own Raft replica
// usually knows the leader and says so in its NOT_LEADER answer.
import { KeelError } from './errors.ts';
import type { MetadataCache } from './metadata-cache.ts';
import { withRetries, type RetryLimits, type Verdict } from './retry.ts';
import type { ClientEnv } from './env.ts';
import type { TopicInfo } from './wire.ts';
import type { BackoffPolicy } from './backoff.ts';

export interface Reaction {
  readonly verdict: Verdict;
  /** An address the next attempt should not go to (it failed, or claimed not to lead without a hint). */
  readonly avoid: string | undefined;
}

/** Retries of one partition request are bounded by its deadline; this only guards against a zero-delay spin. */
export const PARTITION_RETRIES_MAX = 10_000;

/**
 * Backoff between attempts at a partition's leader stays short (Kafka's retry.backoff.ms is 100): during
 * a failover the followers keep naming the dead leader until they elect a new one, so the attempts fail
 * fast and often, and a backoff grown to seconds would make the client notice the new leader late.
 */
export const LEADER_RETRY_BACKOFF_MS_MAX = 250;

export class LeaderRouter {
  /** DescribeTopic calls in flight, one per topic, shared by every request that needs it. */
  private readonly describing = new Map<string, Promise<void>>();
  /** Rotates through `bootstrap` for requests whose leader is unknown. */
  private fallbackCursor = 0;

  constructor(
    private readonly cache: MetadataCache,
    private readonly bootstrap: readonly string[],
    private readonly describe: (topic: string) => Promise<TopicInfo>,
    private readonly env: ClientEnv,
    private readonly backoff: BackoffPolicy,
    private readonly metadataMaxAgeMs: number,
  ) {}

  /** Describes the topic again (deduplicated): the cache then holds the controller's view of its leaders. */
  refresh(topic: string): Promise<void> {
    let p = this.describing.get(topic);
    if (p === undefined) {
      p = this.describe(topic).then(
        (info) => {
          this.cache.update(info, this.env.now());
        },
        (e: unknown) => {
          if (e instanceof KeelError && e.code === 'UNKNOWN_TOPIC') this.cache.invalidate(topic);
          throw e;
        },
      ).finally(() => this.describing.delete(topic));
      this.describing.set(topic, p);
    }
    return p;
  }

  /**
   * The topic's partition count. A description older than `metadataMaxAgeMs` is still used, and described
   * again in the background (Kafka's metadata.max.age.ms), so partitions added since are found.
   */
  async partitionCount(topic: string): Promise<number> {
    const cached = this.cache.partitionCount(topic);
    if (cached !== undefined) {
      if (this.env.now() - (this.cache.describedAtMs(topic) ?? 0) > this.metadataMaxAgeMs) this.refresh(topic).catch(() => {});
      return cached;
    }
    await this.refresh(topic);
    const n = this.cache.partitionCount(topic);
    if (n === undefined) throw new KeelError({ code: 'UNKNOWN_TOPIC', message: `topic ${topic} does not exist`, retriable: false });
    return n;
  }

  /** Where to send a request for the partition, other than `avoid` when there is a choice. */
  async leaderAddress(topic: string, partition: number, avoid?: string): Promise<string> {
    let hint = this.cache.leader(topic, partition);
    if (hint === undefined || hint.address === '' || hint.address === avoid) {
      await this.refresh(topic);
      hint = this.cache.leader(topic, partition);
    }
    if (hint === undefined) {
      const n = this.cache.partitionCount(topic) ?? 0;
      throw new KeelError({ code: 'UNKNOWN_TOPIC_OR_PARTITION', message: `topic ${topic} has ${n} partition${n === 1 ? '' : 's'}; there is no partition ${partition}`, retriable: false });
    }
    if (hint.address !== '' && hint.address !== avoid) return hint.address;
    return this.fallback(avoid);
  }

  /** How a failed partition request should continue, updating the cache from what the error says. */
  react(topic: string, partition: number, address: string | undefined, e: KeelError): Reaction {
    if (e.code === 'NOT_LEADER') {
      if (e.leaderAddress !== undefined && e.leaderAddress !== address) {
        this.cache.setLeader(topic, partition, { leader: e.leader ?? 0, address: e.leaderAddress });
        return { verdict: 'retryNow', avoid: undefined };
      }
      this.cache.forgetLeader(topic, partition);
      return { verdict: 'retry', avoid: address };
    }
    if (e.code === 'UNKNOWN_TOPIC_OR_PARTITION' && e.retriable) {
      // Stale metadata (the topic was just created, or the partition moved): describe again. If the topic
      // is really gone, the description says UNKNOWN_TOPIC, which is final.
      this.cache.invalidate(topic);
      return { verdict: 'retry', avoid: undefined };
    }
    if (e.connectionLevel && address !== undefined) {
      this.cache.forgetLeader(topic, partition);
      return { verdict: 'retry', avoid: address };
    }
    return { verdict: e.retriable ? 'retry' : 'fail', avoid: undefined };
  }

  /** Runs `attempt` at the partition's leader until it succeeds, fails for good, or the deadline passes. */
  toLeader<T>(topic: string, partition: number, deadlineAtMs: number, attempt: (address: string) => Promise<T>): Promise<T> {
    let avoid: string | undefined;
    let address: string | undefined;
    const backoffMsMax = Math.max(this.backoff.backoffMsMin, Math.min(this.backoff.backoffMsMax, LEADER_RETRY_BACKOFF_MS_MAX));
    const limits: RetryLimits = { ...this.backoff, backoffMsMax, retriesMax: PARTITION_RETRIES_MAX, deadlineAtMs };
    return withRetries(this.env, limits, async () => {
      address = undefined;
      const a = await this.leaderAddress(topic, partition, avoid);
      address = a;
      return attempt(a);
    }, (e) => {
      const r = this.react(topic, partition, address, e);
      avoid = r.avoid;
      return r.verdict;
    });
  }

  private fallback(avoid: string | undefined): string {
    for (let i = 0; i < this.bootstrap.length; i++) {
      const a = this.bootstrap[this.fallbackCursor % this.bootstrap.length] as string;
      this.fallbackCursor = (this.fallbackCursor + 1) % this.bootstrap.length;
      if (a !== avoid) return a;
    }
    return this.bootstrap[0] as string;
  }
}
