// The producer against a fake broker that keeps a log and idempotent producer state the way the real
// partition does (net/client/producer.ts, sequences.ts): batching and linger on fake timers, one batch
// in flight per partition, sequences kept across retries so a lost answer costs a duplicate answer and
// never a duplicate record, and a batch that failed for good ending its partition's sequence run.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { realEnv } from '../../net/client/env.ts';
import { FlushTracker } from '../../net/client/flush-tracker.ts';
import { KeelError } from '../../net/client/errors.ts';
import { KeelClient } from '../../net/client/keel-client.ts';
import { Producer, type ProducerHost, type ProducerOptions, type SendResult } from '../../net/client/producer.ts';
import type { ProduceChannel } from '../../net/client/produce-stream.ts';
import { SEQUENCE_MAX, SequenceBook } from '../../net/client/sequences.ts';
import type { ProducerIdentity, WireProduceRequest, WireProduceResponse } from '../../net/client/wire.ts';

const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

type Fault = 'loseAnswer' | 'notLeader' | 'corrupt';

/** One partition leader's log per partition, with Kafka-style producer state (last batches per producer). */
class FakeBroker {
  readonly logs = new Map<number, string[]>();
  readonly requests: WireProduceRequest[] = [];
  readonly inFlight = new Map<number, number>();
  readonly inFlightMax = new Map<number, number>();
  totalInFlight = 0;
  totalInFlightMax = 0;
  /** Per producer-and-partition: the batches written (first sequence, count, base offset). */
  private readonly producers = new Map<string, { first: number; count: number; base: number }[]>();
  /** Faults by request number (0-based, in arrival order). */
  readonly faults = new Map<number, Fault>();

  /** The topic's max.message.bytes, counted here as value bytes. */
  batchBytesMax = Number.POSITIVE_INFINITY;

  constructor(private readonly delayMs = 10) {}

  handle(req: WireProduceRequest): Promise<WireProduceResponse> {
    const n = this.requests.length;
    this.requests.push(req);
    const p = req.partition;
    this.inFlight.set(p, (this.inFlight.get(p) ?? 0) + 1);
    this.inFlightMax.set(p, Math.max(this.inFlightMax.get(p) ?? 0, this.inFlight.get(p)!));
    this.totalInFlight++;
    this.totalInFlightMax = Math.max(this.totalInFlightMax, this.totalInFlight);
    return new Promise((resolve, reject) => {
      setTimeout(() => {
        this.inFlight.set(p, this.inFlight.get(p)! - 1);
        this.totalInFlight--;
        const fault = this.faults.get(n);
        if (fault === 'notLeader') return reject(new KeelError({ code: 'NOT_LEADER', message: 'moved', leaderAddress: 'other:1' }));
        if (fault === 'corrupt') return reject(new KeelError({ code: 'CORRUPT_RECORD', message: 'the batch could not be applied' }));
        const bytes = req.records.reduce((n, r) => n + r.value.length, 0);
        if (bytes > this.batchBytesMax) return reject(new KeelError({ code: 'RECORD_TOO_LARGE', message: `batch of ${bytes} bytes exceeds max.message.bytes=${this.batchBytesMax}` }));
        const r = this.apply(req);
        if (r instanceof KeelError) return reject(r);
        if (fault === 'loseAnswer') return reject(new KeelError({ code: 'DEADLINE_EXCEEDED', message: 'answer lost' }));
        resolve(r);
      }, this.delayMs);
    });
  }

  private apply(req: WireProduceRequest): WireProduceResponse | KeelError {
    const log = this.logs.get(req.partition) ?? [];
    this.logs.set(req.partition, log);
    const answer = (base: number, duplicate: boolean): WireProduceResponse => ({ topic: req.topic, partition: req.partition, baseOffset: base, logAppendTimeMs: 0, duplicate });
    if (req.hasProducer) {
      const k = `${req.producerId}:${req.producerEpoch}:${req.partition}`;
      const batches = this.producers.get(k) ?? [];
      this.producers.set(k, batches);
      const dup = batches.find((b) => b.first === req.baseSequence && b.count === req.records.length);
      if (dup !== undefined) return answer(dup.base, true);
      const last = batches[batches.length - 1];
      const expected = last === undefined ? 0 : last.first + last.count;
      if (req.baseSequence !== expected) return new KeelError({ code: 'OUT_OF_ORDER_SEQUENCE', message: `got ${req.baseSequence}, expected ${expected}` });
      batches.push({ first: req.baseSequence, count: req.records.length, base: log.length });
    }
    const base = log.length;
    for (const r of req.records) log.push(dec(r.value));
    return answer(req.acks === 1 ? -1 : base, false);
  }
}

function host(broker: FakeBroker, partitions = 3): ProducerHost & { identities: number; describes: number } {
  const h = {
    identities: 0,
    describes: 0,
    env: { ...realEnv(), random: () => 0 },
    requestTimeoutMs: 1_000,
    deliveryTimeoutMs: 10_000,
    partitionCount: async (topic: string): Promise<number> => {
      h.describes++;
      if (topic === 'missing') throw new KeelError({ code: 'UNKNOWN_TOPIC', message: `topic ${topic} does not exist` });
      return partitions;
    },
    initProducerId: async (): Promise<ProducerIdentity> => ({ producerId: ++h.identities, producerEpoch: 0 }),
    // The router's part, reduced: retry retriable errors a few times at "the leader".
    toLeader: async <T>(_topic: string, _partition: number, _deadline: number, attempt: (address: string) => Promise<T>): Promise<T> => {
      for (let i = 0; ; i++) {
        try {
          return await attempt('leader:1');
        } catch (e) {
          if (!(e instanceof KeelError) || !e.retriable || i >= 5) throw e;
        }
      }
    },
    openProduceChannel: (): ProduceChannel => ({ broken: false, send: (req) => broker.handle(req), close: () => {} }),
  };
  return h;
}

function producer(broker: FakeBroker, options: ProducerOptions = {}, partitions = 3): { p: Producer; h: ReturnType<typeof host> } {
  const h = host(broker, partitions);
  return { p: new Producer(h, options), h };
}

async function settle<T>(promises: Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
  const all = Promise.allSettled(promises);
  await vi.runAllTimersAsync();
  return all;
}

function offsets(results: PromiseSettledResult<SendResult>[]): (number | string)[] {
  return results.map((r) => (r.status === 'fulfilled' ? r.value.offset : (r.reason as KeelError).code));
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('producer batching', () => {
  it('fills batches up to batchRecordsMax, numbers them in order, and answers each record with its offset', async () => {
    const broker = new FakeBroker();
    const { p } = producer(broker, { batchRecordsMax: 4 });
    const results = await settle(Array.from({ length: 10 }, (_, i) => p.send('t', { value: `v${i}` }, { partition: 0 })));
    expect(offsets(results)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(broker.requests.map((r) => [r.records.length, r.baseSequence, r.producerId, r.hasProducer])).toEqual([[4, 0, 1, true], [4, 4, 1, true], [2, 8, 1, true]]);
    expect(broker.logs.get(0)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
    expect(results[3]).toEqual({ status: 'fulfilled', value: { topic: 't', partition: 0, offset: 3 } });
  });

  it('waits lingerMs for more records, unless flushed', async () => {
    const broker = new FakeBroker();
    const { p } = producer(broker, { lingerMs: 50 });
    const first = p.send('t', { value: 'a' }, { partition: 1 });
    await vi.advanceTimersByTimeAsync(49);
    expect(broker.requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(broker.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10);
    await expect(first).resolves.toEqual({ topic: 't', partition: 1, offset: 0 });

    const second = p.send('t', { value: 'b' }, { partition: 1 });
    const flushed = p.flush();
    await vi.advanceTimersByTimeAsync(0);
    expect(broker.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(10);
    await flushed;
    await expect(second).resolves.toMatchObject({ offset: 1 });
  });

  it('keeps one batch per partition in flight, many partitions at once', async () => {
    const broker = new FakeBroker();
    const { p } = producer(broker, { batchRecordsMax: 2 });
    const sends = Array.from({ length: 60 }, (_, i) => p.send('t', { key: `k${i % 6}`, value: `v${i}` }));
    const results = await settle(sends);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect([...broker.inFlightMax.values()].every((m) => m === 1)).toBe(true);
    expect(broker.totalInFlightMax).toBeGreaterThan(1);
    // Same key, same partition, in send order.
    const byKey = new Map<string, number[]>();
    results.forEach((r, i) => {
      if (r.status !== 'fulfilled') return;
      const key = `k${i % 6}`;
      expect(r.value.partition).toBe(results[i % 6]!.status === 'fulfilled' ? (results[i % 6] as PromiseFulfilledResult<SendResult>).value.partition : -1);
      byKey.set(key, [...(byKey.get(key) ?? []), r.value.offset]);
    });
    for (const offs of byKey.values()) expect(offs).toEqual([...offs].sort((a, b) => a - b));
  });

  it('respects inFlightMax across partitions', async () => {
    const broker = new FakeBroker();
    const { p } = producer(broker, { batchRecordsMax: 1, inFlightMax: 2 });
    await settle(Array.from({ length: 12 }, (_, i) => p.send('t', { value: `v${i}` }, { partition: i % 3 })));
    expect(broker.totalInFlightMax).toBe(2);
  });

  it('learns the partition count once per topic and keeps the order of records sent meanwhile', async () => {
    const broker = new FakeBroker();
    const { p, h } = producer(broker, {});
    const results = await settle(Array.from({ length: 5 }, (_, i) => p.send('t', { key: 'same', value: `v${i}` })));
    expect(h.describes).toBe(1);
    expect(offsets(results)).toEqual([0, 1, 2, 3, 4]);
    const missing = await settle([p.send('missing', { value: 'x' }), p.send('missing', { value: 'y' })]);
    expect(offsets(missing)).toEqual(['UNKNOWN_TOPIC', 'UNKNOWN_TOPIC']);
  });

  it('a flush right after the first sends of a topic still sends full batches', async () => {
    const broker = new FakeBroker();
    const { p } = producer(broker, { batchRecordsMax: 50, lingerMs: 1_000 });
    const sends = Array.from({ length: 120 }, (_, i) => p.send('t', { value: `v${i}` }, { partition: 0 }));
    const flushed = p.flush();
    const results = await settle(sends);
    await flushed;
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(broker.requests.map((r) => r.records.length)).toEqual([50, 50, 20]);
  });

  it('with maxBlockMs 0, refuses records past bufferedRecordsMax at once; refuses all after close', async () => {
    const broker = new FakeBroker();
    const { p } = producer(broker, { bufferedRecordsMax: 2, maxBlockMs: 0 });
    const ok = [p.send('t', { value: 'a' }), p.send('t', { value: 'b' })];
    await expect(p.send('t', { value: 'c' })).rejects.toMatchObject({ code: 'BUFFER_FULL', retriable: true });
    const closing = p.close();
    await settle(ok);
    await closing;
    await expect(p.send('t', { value: 'd' })).rejects.toMatchObject({ code: 'CLOSED' });
    expect(() => producer(broker, { idempotent: true, acks: 'leader' })).toThrow(/acks "all"/);
  });

  it('a full buffer makes send() wait for room: every record is written, in send order, never more than the bound held', async () => {
    const broker = new FakeBroker();
    const { p } = producer(broker, { bufferedRecordsMax: 3, batchRecordsMax: 2, lingerMs: 0 });
    let heldMax = 0;
    let settled = 0;
    const sends = Array.from({ length: 10 }, (_, i) => {
      const s = p.send('t', { value: `v${i}` }, { partition: 0 });
      void s.finally(() => settled++);
      heldMax = Math.max(heldMax, p.buffered);
      return s;
    });
    // A flush made while sends wait for room covers them too.
    const settledAtFlush = p.flush().then(() => settled);
    const results = await settle(sends);
    expect(await settledAtFlush).toBe(10);
    expect(offsets(results)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(broker.logs.get(0)).toEqual(sends.map((_, i) => `v${i}`));
    expect(heldMax).toBeLessThanOrEqual(3);
    expect(p.buffered).toBe(0);
  });

  it('a send that finds no room within maxBlockMs fails with BUFFER_FULL; the records ahead of it are unaffected', async () => {
    const broker = new FakeBroker(5_000);
    const { p } = producer(broker, { bufferedRecordsMax: 2, maxBlockMs: 100 });
    const ahead = [p.send('t', { value: 'a' }, { partition: 0 }), p.send('t', { value: 'b' }, { partition: 0 })];
    const late = p.send('t', { value: 'c' }, { partition: 0 });
    const lateFailed = expect(late).rejects.toMatchObject({ code: 'BUFFER_FULL', message: expect.stringContaining('maxBlockMs (100 ms)') });
    await vi.advanceTimersByTimeAsync(150);
    await lateFailed;
    expect(offsets(await settle(ahead))).toEqual([0, 1]);
    expect(broker.logs.get(0)).toEqual(['a', 'b']);
  });

  it('abort() fails the sends waiting for room with CLOSED', async () => {
    const broker = new FakeBroker(5_000);
    const { p } = producer(broker, { bufferedRecordsMax: 1 });
    const first = p.send('t', { value: 'a' });
    const waiting = p.send('t', { value: 'b' });
    p.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CLOSED' });
    await settle([first]);
    expect(() => producer(broker, { maxBlockMs: -1 })).toThrow(/maxBlockMs/);
  });

  it('without idempotence sends no producer fields; acks leader answers offset -1', async () => {
    const broker = new FakeBroker();
    const { p } = producer(broker, { idempotent: false, acks: 'leader' });
    const results = await settle([p.send('t', { value: 'a' }, { partition: 0 })]);
    expect(offsets(results)).toEqual([-1]);
    expect(broker.requests[0]).toMatchObject({ hasProducer: false, producerId: 0, baseSequence: 0, acks: 1 });
  });
});

describe('idempotent retries', () => {
  it('a lost answer is retried with the same sequence and answered as a duplicate: no record twice', async () => {
    const broker = new FakeBroker();
    broker.faults.set(0, 'loseAnswer');
    const { p } = producer(broker, { batchRecordsMax: 3 });
    const results = await settle(Array.from({ length: 6 }, (_, i) => p.send('t', { value: `v${i}` }, { partition: 2 })));
    expect(offsets(results)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(broker.requests.map((r) => r.baseSequence)).toEqual([0, 0, 3]);
    expect(broker.requests[1]!.records).toBe(broker.requests[0]!.records);
    expect(broker.logs.get(2)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);
    expect(p.stats).toMatchObject({ duplicates: 1, batchesSent: 2, batchAttempts: 3 });
  });

  it('a redirect retries the same batch, sequence unchanged', async () => {
    const broker = new FakeBroker();
    broker.faults.set(0, 'notLeader');
    const { p } = producer(broker, {});
    const results = await settle([p.send('t', { value: 'a' }, { partition: 0 })]);
    expect(offsets(results)).toEqual([0]);
    expect(broker.requests.map((r) => [r.producerId, r.baseSequence])).toEqual([[1, 0], [1, 0]]);
  });

  it('a batch that fails for good ends the run: the next batch starts at 0 under a new producer id', async () => {
    const broker = new FakeBroker();
    broker.faults.set(1, 'corrupt');
    const { p, h } = producer(broker, { batchRecordsMax: 2 });
    const results = await settle(Array.from({ length: 6 }, (_, i) => p.send('t', { value: `v${i}` }, { partition: 0 })));
    expect(offsets(results)).toEqual([0, 1, 'CORRUPT_RECORD', 'CORRUPT_RECORD', 2, 3]);
    expect(broker.requests.map((r) => [r.producerId, r.baseSequence])).toEqual([[1, 0], [1, 2], [2, 0]]);
    expect(h.identities).toBe(2);
    expect(broker.logs.get(0)).toEqual(['v0', 'v1', 'v4', 'v5']);
  });

  it('a batch over the topic\'s max.message.bytes is split and its records sent in order; only a record too large alone fails', async () => {
    const broker = new FakeBroker();
    broker.batchBytesMax = 10;
    const { p } = producer(broker, { batchRecordsMax: 8 });
    const values = ['aaaa', 'bbbb', 'cccc', 'dddd', 'x'.repeat(11), 'eeee', 'ffff', 'gggg'];
    const results = await settle(values.map((value) => p.send('t', { value }, { partition: 1 })));
    expect(offsets(results)).toEqual([0, 1, 2, 3, 'RECORD_TOO_LARGE', 4, 5, 6]);
    expect(broker.logs.get(1)).toEqual(['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee', 'ffff', 'gggg']);
  });

  it('refuses a record larger than any topic accepts before sending it (and so does client.produce)', async () => {
    const broker = new FakeBroker();
    const { p } = producer(broker);
    const huge = new Uint8Array(64 * 1024 * 1024 + 1);
    await expect(p.send('t', { value: huge }, { partition: 0 })).rejects.toMatchObject({ code: 'RECORD_TOO_LARGE' });
    expect(broker.requests).toHaveLength(0);
    const client = new KeelClient({ bootstrap: ['127.0.0.1:1'] }); // never reached
    await expect(client.produce('t', [{ value: huge }])).rejects.toMatchObject({ code: 'RECORD_TOO_LARGE', message: /a batch of \d+ bytes is larger than any topic accepts/ });
    client.close();
  });

  it('other partitions keep their run when one partition ends its own', async () => {
    const broker = new FakeBroker();
    broker.faults.set(0, 'corrupt');
    const { p } = producer(broker, { batchRecordsMax: 1 });
    await settle([p.send('t', { value: 'a' }, { partition: 0 }), p.send('t', { value: 'b' }, { partition: 1 })]);
    await settle([p.send('t', { value: 'c' }, { partition: 0 }), p.send('t', { value: 'd' }, { partition: 1 })]);
    const seen = broker.requests.map((r) => [r.partition, r.producerId, r.baseSequence]);
    expect(seen).toContainEqual([1, 1, 0]);
    expect(seen).toContainEqual([1, 1, 1]);
    expect(seen).toContainEqual([0, 2, 0]);
  });
});

describe('sequence book', () => {
  const id1 = { producerId: 1, producerEpoch: 0 };
  const id2 = { producerId: 2, producerEpoch: 0 };

  it('numbers batches of a run consecutively', () => {
    const b = new SequenceBook();
    expect(b.next('t', 0, 5)).toBeNull();
    expect(b.start('t', 0, 5, id1)).toEqual({ identity: id1, baseSequence: 0 });
    expect(b.next('t', 0, 3)).toEqual({ identity: id1, baseSequence: 5 });
    expect(b.next('t', 0, 1)).toEqual({ identity: id1, baseSequence: 8 });
    expect(b.next('t', 1, 1)).toBeNull();
    expect(b.run('t', 0)).toEqual({ identity: id1, next: 9 });
  });

  it('retires the identity of an ended run; it cannot start another', () => {
    const b = new SequenceBook();
    b.start('t', 0, 1, id1);
    b.start('t', 1, 1, id1);
    b.endRun('t', 0);
    expect(b.isRetired(id1)).toBe(true);
    expect(b.next('t', 0, 1)).toBeNull();
    expect(() => b.start('t', 0, 1, id1)).toThrow(/retired/);
    expect(b.start('t', 0, 1, id2)).toEqual({ identity: id2, baseSequence: 0 });
    // Partition 1 carries on under id1.
    expect(b.next('t', 1, 1)).toEqual({ identity: id1, baseSequence: 1 });
  });

  it('starts over instead of passing the largest sequence', () => {
    const b = new SequenceBook();
    b.start('t', 0, SEQUENCE_MAX - 1, id1);
    expect(b.next('t', 0, 1)).toEqual({ identity: id1, baseSequence: SEQUENCE_MAX - 1 });
    expect(b.next('t', 0, 1)).toEqual({ identity: id1, baseSequence: SEQUENCE_MAX });
    expect(b.next('t', 0, 1)).toBeNull();
    expect(b.isRetired(id1)).toBe(true);
  });
});

describe('flush tracker', () => {
  it('waits for the records sent before the flush, in any settling order, and not for later ones', async () => {
    const t = new FlushTracker();
    const [a, b] = [t.accepted(), t.accepted()];
    let flushed = false;
    const f = t.wait().then(() => {
      flushed = true;
    });
    const later = t.accepted();
    expect([t.awaited(a), t.awaited(b), t.awaited(later)]).toEqual([true, true, false]);
    t.settled(b);
    await Promise.resolve();
    expect(flushed).toBe(false);
    t.settled(a);
    await f;
    expect(flushed).toBe(true);
    expect(t.pending).toBe(1);
    let second = false;
    void t.wait().then(() => {
      second = true;
    });
    await Promise.resolve();
    expect(second).toBe(false);
    t.settled(later);
    await Promise.resolve();
    expect(second).toBe(true);
  });

  it('resolves at once with nothing pending', async () => {
    await expect(new FlushTracker().wait()).resolves.toBeUndefined();
  });
});
