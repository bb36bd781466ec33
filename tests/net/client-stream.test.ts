// One ProduceStream connection (net/client/produce-stream.ts) over a fake call: requests pipelined with
// correlation ids, answers matched whatever their order, a per-request timeout (a late answer is then
// ignored), and a broken stream failing every unanswered request with a retriable error.
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KEEL_CODE_HEADER } from '../../net/client-schema.ts';
import type { ProduceStreamCall } from '../../net/client/calls.ts';
import { realEnv } from '../../net/client/env.ts';
import { ProduceStreamConnection } from '../../net/client/produce-stream.ts';
import type { WireProduceRequest, WireProduceStreamRequest } from '../../net/client/wire.ts';

class FakeCall extends EventEmitter {
  readonly written: WireProduceStreamRequest[] = [];
  cancelled = false;
  write(m: WireProduceStreamRequest): boolean {
    this.written.push(m);
    return true;
  }
  cancel(): void {
    this.cancelled = true;
  }
  answer(correlationId: number, baseOffset: number): void {
    this.emit('data', { correlationId, result: 'ok', ok: { topic: 't', partition: 0, baseOffset, logAppendTimeMs: 0, duplicate: false } });
  }
}

const request = (partition: number): WireProduceRequest => ({ topic: 't', hasPartition: true, partition, records: [], acks: 0, hasProducer: false, producerId: 0, producerEpoch: 0, baseSequence: 0 });

function connection(): { call: FakeCall; c: ProduceStreamConnection } {
  const call = new FakeCall();
  return { call, c: new ProduceStreamConnection(call as unknown as ProduceStreamCall, 'a:1', realEnv()) };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('produce stream connection', () => {
  it('matches answers to requests by correlation id, in any order', async () => {
    const { call, c } = connection();
    const a = c.send(request(0), 1_000);
    const b = c.send(request(1), 1_000);
    expect(call.written.map((m) => [m.correlationId, m.request.partition])).toEqual([[1, 0], [2, 1]]);
    call.answer(2, 70);
    call.answer(1, 40);
    await expect(a).resolves.toMatchObject({ baseOffset: 40 });
    await expect(b).resolves.toMatchObject({ baseOffset: 70 });
    expect(c.inFlight).toBe(0);
  });

  it('turns an Error answer into a KeelError with the hint', async () => {
    const { call, c } = connection();
    const a = c.send(request(0), 1_000);
    call.emit('data', { correlationId: 1, result: 'error', error: { code: 'NOT_LEADER', message: 'moved', leader: 2, leaderAddress: 'b:2' } });
    await expect(a).rejects.toMatchObject({ code: 'NOT_LEADER', leader: 2, leaderAddress: 'b:2', retriable: true, address: 'a:1' });
    expect(c.broken).toBe(false);
  });

  it('times a request out on its own and ignores its late answer', async () => {
    const { call, c } = connection();
    const a = c.send(request(0), 100).catch((e: unknown) => e);
    const b = c.send(request(0), 500);
    await vi.advanceTimersByTimeAsync(100);
    expect(await a).toMatchObject({ code: 'DEADLINE_EXCEEDED', retriable: true });
    call.answer(1, 5);
    call.answer(2, 6);
    await expect(b).resolves.toMatchObject({ baseOffset: 6 });
  });

  it('fails everything unanswered when the stream breaks, and refuses more', async () => {
    const { call, c } = connection();
    const pending = [c.send(request(0), 1_000), c.send(request(1), 1_000)].map((p) => p.catch((e: unknown) => e));
    const md = new grpc.Metadata();
    md.set(KEEL_CODE_HEADER, 'BROKER_NOT_AVAILABLE');
    call.emit('error', Object.assign(new Error('shutting down'), { code: grpc.status.UNAVAILABLE, details: 'the node is shutting down', metadata: md }));
    for (const e of await Promise.all(pending)) expect(e).toMatchObject({ code: 'BROKER_NOT_AVAILABLE', retriable: true });
    expect(c.broken).toBe(true);
    await expect(c.send(request(0), 1_000)).rejects.toMatchObject({ code: 'DISCONNECTED', retriable: true });
  });

  it('an ended stream leaves the outcome unknown (DISCONNECTED); close() cancels the call', async () => {
    const { call, c } = connection();
    const a = c.send(request(0), 1_000).catch((e: unknown) => e);
    call.emit('end');
    expect(await a).toMatchObject({ code: 'DISCONNECTED', retriable: true });
    const other = connection();
    const b = other.c.send(request(0), 1_000).catch((e: unknown) => e);
    other.c.close();
    expect(await b).toMatchObject({ code: 'CLOSED', retriable: false });
    expect(other.call.cancelled).toBe(true);
  });
});
