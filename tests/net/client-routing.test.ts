// Reaching a partition's leader (net/client/leader-routing.ts, metadata-cache.ts) and tailing it
// (subscription.ts), against fakes: NOT_LEADER hints are followed at once, an unreachable leader is
// avoided and the topic described again, unknown partitions fail for good; a subscription re-subscribes
// at the new leader from the next offset, never repeats or skips an offset, and stops on return().
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { realEnv, type ClientEnv } from '../../net/client/env.ts';
import { KeelError } from '../../net/client/errors.ts';
import { LeaderRouter } from '../../net/client/leader-routing.ts';
import { MetadataCache } from '../../net/client/metadata-cache.ts';
import type { ConsumedRecord } from '../../net/client/records.ts';
import { Subscription, type StreamHandlers, type SubscriptionHost } from '../../net/client/subscription.ts';
import type { TopicInfo, WireSubscribeRequest, WireSubscribeResponse } from '../../net/client/wire.ts';

const backoff = { backoffMsMin: 50, backoffMsMax: 1_000 };

function topic(leaders: readonly (readonly [number, string])[]): TopicInfo {
  return {
    name: 't', id: 1, replicationFactor: 3, configs: {},
    partitions: leaders.map(([leader, leaderAddress], partition) => ({ partition, group: partition + 1, replicas: [1, 2, 3], leader, leaderAddress, offline: [], reassigningTo: [] })),
  };
}

function notLeader(leaderAddress?: string): KeelError {
  return new KeelError({ code: 'NOT_LEADER', message: 'not here', ...(leaderAddress !== undefined ? { leader: 9, leaderAddress } : {}) });
}

function refused(address: string): KeelError {
  return new KeelError({ code: 'CONNECTION_FAILED', message: `cannot reach ${address} (connection refused)`, address });
}

let env: ClientEnv;
beforeEach(() => {
  vi.useFakeTimers();
  env = { ...realEnv(), random: () => 0 };
});
afterEach(() => {
  vi.useRealTimers();
});

function router(describe: () => TopicInfo, metadataMaxAgeMs = 300_000): { r: LeaderRouter; cache: MetadataCache; describes: () => number } {
  const cache = new MetadataCache();
  let n = 0;
  const r = new LeaderRouter(cache, ['b1:1', 'b2:2', 'b3:3'], async (name) => {
    n++;
    if (name !== 't') throw new KeelError({ code: 'UNKNOWN_TOPIC', message: `topic ${name} does not exist` });
    return describe();
  }, env, backoff, metadataMaxAgeMs);
  return { r, cache, describes: () => n };
}

describe('metadata cache', () => {
  it('holds leaders per partition, takes hints, forgets', () => {
    const c = new MetadataCache();
    c.update(topic([[1, 'a:1'], [2, 'b:2']]), 0);
    expect(c.partitionCount('t')).toBe(2);
    expect(c.leader('t', 1)).toEqual({ leader: 2, address: 'b:2' });
    expect(c.setLeader('t', 1, { leader: 3, address: 'c:3' })).toBe(true);
    expect(c.leader('t', 1)).toEqual({ leader: 3, address: 'c:3' });
    expect(c.setLeader('t', 5, { leader: 3, address: 'c:3' })).toBe(false);
    c.forgetLeader('t', 0);
    expect(c.leader('t', 0)).toEqual({ leader: 0, address: '' });
    c.invalidate('t');
    expect(c.has('t')).toBe(false);
  });

  it('forgets the least recently described topic past its bound', () => {
    const c = new MetadataCache(2);
    for (const name of ['x', 'y', 'z']) c.update({ ...topic([[1, 'a:1']]), name }, 0);
    expect([c.has('x'), c.has('y'), c.has('z')]).toEqual([false, true, true]);
  });
});

describe('leader routing', () => {
  it('describes a topic again in the background once its description is older than metadataMaxAgeMs, finding new partitions', async () => {
    let partitions = 2;
    const { r, describes } = router(() => topic(Array.from({ length: partitions }, (_, i) => [i + 1, `a:${i + 1}`] as [number, string])), 1_000);
    expect(await r.partitionCount('t')).toBe(2);
    partitions = 4;
    expect(await r.partitionCount('t')).toBe(2);
    expect(describes()).toBe(1);
    vi.advanceTimersByTime(1_001);
    // The stale count still answers at once; the refresh runs behind it.
    expect(await r.partitionCount('t')).toBe(2);
    await vi.waitFor(() => expect(describes()).toBe(2));
    expect(await r.partitionCount('t')).toBe(4);
  });

  it('follows a NOT_LEADER hint at once and remembers it', async () => {
    const { r, cache, describes } = router(() => topic([[1, 'a:1']]));
    const tried: string[] = [];
    const p = r.toLeader('t', 0, Date.now() + 10_000, async (address) => {
      tried.push(address);
      if (address === 'a:1') throw notLeader('c:3');
      return 'done';
    });
    await vi.advanceTimersByTimeAsync(0);
    await expect(p).resolves.toBe('done');
    expect(tried).toEqual(['a:1', 'c:3']);
    expect(cache.leader('t', 0)).toEqual({ leader: 9, address: 'c:3' });
    expect(describes()).toBe(1);
  });

  it('avoids an unreachable leader: describes again, then asks another node', async () => {
    // The controller still names the dead node: the next attempt goes to a bootstrap node instead.
    const { r, describes } = router(() => topic([[1, 'b1:1']]));
    const tried: string[] = [];
    const p = r.toLeader('t', 0, Date.now() + 10_000, async (address) => {
      tried.push(address);
      if (address === 'b1:1') throw refused(address);
      if (address === 'b2:2') throw notLeader('b3:3');
      return 'done';
    });
    await vi.runAllTimersAsync();
    await expect(p).resolves.toBe('done');
    expect(tried).toEqual(['b1:1', 'b2:2', 'b3:3']);
    expect(describes()).toBe(2);
  });

  it('a NOT_LEADER without a hint backs off and goes elsewhere', async () => {
    const { r } = router(() => topic([[1, 'b1:1']]));
    const tried: [string, number][] = [];
    const start = Date.now();
    const p = r.toLeader('t', 0, Date.now() + 10_000, async (address) => {
      tried.push([address, Date.now() - start]);
      if (tried.length === 1) throw notLeader();
      return 'done';
    });
    await vi.runAllTimersAsync();
    await expect(p).resolves.toBe('done');
    expect(tried).toEqual([['b1:1', 0], ['b2:2', 25]]);
  });

  it('fails for good on a partition the topic does not have, or a topic that does not exist', async () => {
    const { r } = router(() => topic([[1, 'a:1']]));
    await expect(r.toLeader('t', 4, Date.now() + 10_000, async () => 'x')).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: false, message: 'topic t has 1 partition; there is no partition 4' });
    await expect(r.toLeader('nope', 0, Date.now() + 10_000, async () => 'x')).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
  });

  it('gives up at the deadline with the last error', async () => {
    const { r } = router(() => topic([[1, 'a:1']]));
    let attempts = 0;
    const p = r.toLeader('t', 0, Date.now() + 500, async () => {
      attempts++;
      throw new KeelError({ code: 'NOT_ENOUGH_REPLICAS', message: 'no quorum' });
    }).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(await p).toMatchObject({ code: 'NOT_ENOUGH_REPLICAS' });
    // Delays are half the ceiling (random() = 0); ceilings double from 50 ms, capped at
    // LEADER_RETRY_BACKOFF_MS_MAX (250): attempts at 0, 25, 75, 175, 300, 425; the next would start at 550.
    expect(attempts).toBe(6);
  });
});

describe('subscription', () => {
  interface Opened { address: string; request: WireSubscribeRequest; h: StreamHandlers; cancelled: boolean; paused: boolean }

  function fakeHost(leaders: string[]): { host: SubscriptionHost; opened: Opened[] } {
    const opened: Opened[] = [];
    let leader = 0;
    const cache = new MetadataCache();
    const r = new LeaderRouter(cache, ['b1:1', 'b2:2', 'b3:3'], async () => topic([[1, leaders[Math.min(leader++, leaders.length - 1)]!]]), env, backoff, 300_000);
    const host: SubscriptionHost = {
      env,
      backoff,
      retriesMax: 3,
      leaderAddress: (t, p, avoid) => r.leaderAddress(t, p, avoid),
      react: (t, p, a, e) => r.react(t, p, a, e),
      open: (address, request, h) => {
        const o: Opened = { address, request, h, cancelled: false, paused: false };
        opened.push(o);
        return { cancel: () => { o.cancelled = true; }, pause: () => { o.paused = true; }, resume: () => { o.paused = false; } };
      },
    };
    return { host, opened };
  }

  const batch = (from: number, n: number): WireSubscribeResponse => ({
    result: 'batch',
    batch: {
      topic: 't', partition: 0, highWatermark: from + n, logStartOffset: 0,
      records: Array.from({ length: n }, (_, i) => ({ offset: from + i, record: { key: new Uint8Array(0), keyNull: true, value: new TextEncoder().encode(`v${from + i}`), valueNull: false, headers: [], timestamp: 1 } })),
    },
  });

  async function take(s: Subscription, n: number): Promise<ConsumedRecord[]> {
    const out: ConsumedRecord[] = [];
    for (let i = 0; i < n; i++) {
      const r = await s.next();
      if (r.done === true) break;
      out.push(r.value);
    }
    return out;
  }

  it('re-subscribes at the hinted leader from the next offset, skipping what it already has', async () => {
    const { host, opened } = fakeHost(['a:1']);
    const s = new Subscription(host, 't', 0, 5);
    const first = take(s, 3);
    await vi.advanceTimersByTimeAsync(0);
    expect(opened.map((o) => [o.address, o.request.offset])).toEqual([['a:1', 5]]);
    opened[0]!.h.data(batch(5, 3));
    expect((await first).map((r) => r.offset)).toEqual([5, 6, 7]);

    opened[0]!.h.data({ result: 'error', error: { code: 'NOT_LEADER', message: 'moved', leader: 2, leaderAddress: 'b:2' } });
    const next = take(s, 2);
    await vi.advanceTimersByTimeAsync(0);
    expect(opened[0]!.cancelled).toBe(true);
    expect(opened.map((o) => [o.address, o.request.offset])).toEqual([['a:1', 5], ['b:2', 8]]);
    // The new leader repeats offset 7 (say); the subscription drops it.
    opened[1]!.h.data(batch(7, 3));
    expect((await next).map((r) => r.offset)).toEqual([8, 9]);
    expect(s.position).toBe(10);
  });

  it('reconnects with backoff after a dropped stream, and ignores the old stream afterwards', async () => {
    const { host, opened } = fakeHost(['a:1', 'b:2']);
    const s = new Subscription(host, 't', 0, 0);
    const got = take(s, 2);
    await vi.advanceTimersByTimeAsync(0);
    opened[0]!.h.data(batch(0, 1));
    opened[0]!.h.error(new KeelError({ code: 'UNAVAILABLE', message: 'connection reset', address: 'a:1' }));
    opened[0]!.h.data(batch(1, 1));
    await vi.advanceTimersByTimeAsync(24);
    expect(opened).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(opened.map((o) => [o.address, o.request.offset])).toEqual([['a:1', 0], ['b:2', 1]]);
    opened[1]!.h.data(batch(1, 1));
    expect((await got).map((r) => r.offset)).toEqual([0, 1]);
  });

  it('ends with the error when it cannot be retried, after the records it had', async () => {
    const { host, opened } = fakeHost(['a:1']);
    const s = new Subscription(host, 't', 0, 0);
    const first = s.next();
    await vi.advanceTimersByTimeAsync(0);
    opened[0]!.h.data(batch(0, 2));
    opened[0]!.h.data({ result: 'error', error: { code: 'OFFSET_OUT_OF_RANGE', message: 'trimmed', leader: 0, leaderAddress: '' } });
    expect((await first).value).toMatchObject({ offset: 0 });
    expect((await s.next()).value).toMatchObject({ offset: 1 });
    await expect(s.next()).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    expect(await s.next()).toEqual({ done: true, value: undefined });
  });

  it('gives up after retriesMax failed reconnects in a row', async () => {
    const { host, opened } = fakeHost(['a:1']);
    const s = new Subscription(host, 't', 0, 0);
    const result = s.next().catch((e: unknown) => e);
    for (let i = 0; i < 4; i++) {
      await vi.runAllTimersAsync();
      opened[i]!.h.end();
    }
    expect(await result).toMatchObject({ code: 'DISCONNECTED' });
    expect(opened).toHaveLength(4);
  });

  it('return() stops at once, even while a next() is waiting', async () => {
    const { host, opened } = fakeHost(['a:1']);
    const s = new Subscription(host, 't', 0, 0);
    const pending = s.next();
    await vi.advanceTimersByTimeAsync(0);
    await s.return();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(opened[0]!.cancelled).toBe(true);
    opened[0]!.h.data(batch(0, 1));
    expect(await s.next()).toEqual({ done: true, value: undefined });
  });

  it('pauses the stream while the caller is bufferRecordsMax records behind', async () => {
    const { host, opened } = fakeHost(['a:1']);
    const s = new Subscription(host, 't', 0, 0, { bufferRecordsMax: 4 });
    const first = s.next();
    await vi.advanceTimersByTimeAsync(0);
    opened[0]!.h.data(batch(0, 6));
    await first;
    expect(opened[0]!.paused).toBe(true);
    // Resumed only once the backlog is below half the bound (no flapping).
    await take(s, 3);
    expect(opened[0]!.paused).toBe(true);
    await take(s, 1);
    expect(opened[0]!.paused).toBe(false);
  });
});
