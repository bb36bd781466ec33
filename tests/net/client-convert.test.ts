// The client API's pure parts: the error-code -> gRPC status table, the keel-* trailers, request checks
// and conversions (no input makes them throw), the refusal of results of a reused request id, and the
// seeded Rng.
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PARTITION_ERROR_CODES } from '../../broker/partition/partition-service.ts';
import { ADMIN_ERROR_CODES } from '../../controller/errors.ts';
import {
  decodeAlterTopicConfigsRequest, decodeCreatePartitionsRequest, decodeCreateTopicRequest, decodeDeleteTopicRequest, decodeDescribeTopicRequest, decodeEmptyRequest, decodeFetchRequest,
  decodeInitProducerIdRequest, decodeListOffsetsRequest, decodeListTopicsRequest, decodeProduceRequest, decodeProduceStreamRequest,
  decodeSubscribeRequest, encodeDeletedTopic, encodeTopicAnswer, encodeProducerId, encodeRecord, MalformedRequest,
} from '../../net/client-convert.ts';
import { API_ERROR_CODES, ERROR_MESSAGE_CHARS_MAX, grpcStatusFor, toErrorMessage, toStatus } from '../../net/client-errors.ts';
import { SeededRng } from '../../net/seeded-rng.ts';
import { nodeId } from '../../raft/types.ts';

const S = grpc.status;

describe('error codes -> gRPC status', () => {
  it('maps every Keel code, as documented', () => {
    const table = Object.fromEntries([...ADMIN_ERROR_CODES, ...PARTITION_ERROR_CODES, ...API_ERROR_CODES].map((c) => [c, S[grpcStatusFor(c)]]));
    expect(table).toEqual({
      NOT_CONTROLLER: 'UNAVAILABLE',
      TOPIC_ALREADY_EXISTS: 'ALREADY_EXISTS',
      UNKNOWN_TOPIC: 'NOT_FOUND',
      INVALID_TOPIC: 'INVALID_ARGUMENT',
      INVALID_PARTITIONS: 'INVALID_ARGUMENT',
      INVALID_REPLICATION_FACTOR: 'INVALID_ARGUMENT',
      INVALID_CONFIG: 'INVALID_ARGUMENT',
      INVALID_REQUEST: 'INVALID_ARGUMENT',
      INVALID_GROUP: 'INVALID_ARGUMENT',
      UNKNOWN_MEMBER: 'FAILED_PRECONDITION',
      FENCED_MEMBER: 'FAILED_PRECONDITION',
      NON_EMPTY_GROUP: 'FAILED_PRECONDITION',
      BROKER_NOT_AVAILABLE: 'UNAVAILABLE',
      STALE_BROKER_EPOCH: 'FAILED_PRECONDITION',
      REQUEST_TIMED_OUT: 'DEADLINE_EXCEEDED',
      NOT_LEADER: 'UNAVAILABLE',
      UNKNOWN_TOPIC_OR_PARTITION: 'NOT_FOUND',
      RECORD_TOO_LARGE: 'INVALID_ARGUMENT',
      INVALID_RECORD: 'INVALID_ARGUMENT',
      OUT_OF_ORDER_SEQUENCE: 'FAILED_PRECONDITION',
      INVALID_PRODUCER_EPOCH: 'FAILED_PRECONDITION',
      NOT_ENOUGH_REPLICAS: 'UNAVAILABLE',
      OFFSET_OUT_OF_RANGE: 'OUT_OF_RANGE',
      CORRUPT_RECORD: 'INTERNAL',
      TOO_MANY_REQUESTS: 'RESOURCE_EXHAUSTED',
      INTERNAL: 'INTERNAL',
    });
    expect(grpcStatusFor('SOMETHING_NEWER')).toBe(S.UNKNOWN);
  });

  it('puts the code and the leader hint in trailers, the address from the broker list if not given', () => {
    const addressOf = (id: number): string | undefined => (id === 2 ? '10.0.0.2:7000' : undefined);
    const st = toStatus({ code: 'NOT_LEADER', message: 'not me', leader: nodeId(2) }, addressOf);
    expect([st.code, st.details, st.metadata.get('keel-code'), st.metadata.get('keel-leader'), st.metadata.get('keel-leader-address')]).toEqual([S.UNAVAILABLE, 'not me', ['NOT_LEADER'], ['2'], ['10.0.0.2:7000']]);
    const given = toStatus({ code: 'NOT_LEADER', message: 'x', leader: nodeId(3), leaderAddress: 'h:1' }, addressOf);
    expect(given.metadata.get('keel-leader-address')).toEqual(['h:1']);
    const none = toStatus({ code: 'NOT_CONTROLLER', message: 'x', leader: nodeId(0) }, addressOf);
    expect([none.metadata.get('keel-leader'), none.metadata.get('keel-leader-address')]).toEqual([[], []]);
    const long = toErrorMessage({ code: 'INVALID_TOPIC', message: 'y'.repeat(5_000) }, addressOf);
    expect(long.message.length).toBe(ERROR_MESSAGE_CHARS_MAX);
    expect([long.leader, long.leaderAddress]).toEqual([0, '']);
  });
});

describe('request checks', () => {
  const decoders: ((v: unknown) => unknown)[] = [
    decodeProduceRequest, decodeProduceStreamRequest, decodeFetchRequest, decodeSubscribeRequest, decodeListOffsetsRequest,
    (v) => decodeInitProducerIdRequest(v, () => 'id'), (v) => decodeCreateTopicRequest(v, () => 'id'), (v) => decodeDeleteTopicRequest(v, () => 'id'),
    (v) => decodeAlterTopicConfigsRequest(v, () => 'id'), (v) => decodeCreatePartitionsRequest(v, () => 'id'),
    decodeListTopicsRequest, decodeDescribeTopicRequest, (v) => decodeEmptyRequest('X', v),
  ];

  it('never throw, whatever they are given', () => {
    const records = fc.array(fc.record({ key: fc.anything(), keyNull: fc.anything(), value: fc.anything(), headers: fc.anything(), timestamp: fc.anything() }, { requiredKeys: [] }));
    const input = fc.oneof(fc.anything(), fc.record({ topic: fc.anything(), name: fc.anything(), records, request: fc.anything(), configs: fc.anything(), partition: fc.anything(), offset: fc.anything() }, { requiredKeys: [] }));
    fc.assert(fc.property(input, (v) => {
      for (const d of decoders) expect(() => d(v)).not.toThrow();
    }), { numRuns: 300 });
    for (const d of decoders) expect(d(new MalformedRequest('bad bytes'))).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
  });

  it('converts a produce request: presence flags, null and empty, producer fields', () => {
    const empty = new Uint8Array(0);
    const r = decodeProduceRequest({
      topic: 't', hasPartition: true, partition: 2, hasKey: false, key: empty, acks: 1,
      records: [{ key: empty, keyNull: true, value: empty, valueNull: false, headers: [{ key: 'h', value: new Uint8Array([1]) }], timestamp: -1 }],
      hasProducer: true, producerId: 1_000, producerEpoch: 0, baseSequence: 3,
    });
    expect(r).toEqual({ ok: true, value: { topic: 't', partition: 2, acks: 'leader', producerId: 1_000, producerEpoch: 0, baseSequence: 3, records: [{ key: null, value: empty, headers: [{ key: 'h', value: new Uint8Array([1]) }], timestamp: -1 }] } });
    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ topic: 't', partition: 1, records: [{}] }, /has_partition/],
      [{ topic: 't', key: new Uint8Array([1]), records: [{}] }, /has_key/],
      [{ topic: 't', producerId: 5, records: [{}] }, /has_producer/],
      [{ topic: 't', records: [{ keyNull: true, key: new Uint8Array([1]) }] }, /key_null/],
      [{ topic: 't', records: [{ timestamp: 2 ** 53 }] }, /safe integer/],
      [{ topic: 't', records: [{ headers: [{ key: 5 }] }] }, /must be a string/],
      [{ topic: 't', records: [] }, /at least one record/],
      [{ topic: 't', acks: 2, records: [{}] }, /acks/],
    ];
    for (const [req, message] of refusals) {
      const d = decodeProduceRequest(req);
      expect(d.ok ? 'ok' : d.error.message).toMatch(message);
    }
    expect(decodeProduceRequest({ topic: 'bad topic', records: [{}] })).toMatchObject({ ok: false, error: { code: 'INVALID_TOPIC' } });
  });

  it('fills defaults and generates request ids', () => {
    expect(decodeFetchRequest({ topic: 't' })).toEqual({ ok: true, value: { topic: 't', partition: 0, offset: 0, maxBytes: 1 << 20, maxWaitMs: 0 } });
    expect(decodeInitProducerIdRequest({}, () => 'fresh')).toEqual({ ok: true, value: { requestId: 'fresh' } });
    expect(decodeListOffsetsRequest({ topic: 't', spec: 2, timestamp: 5 })).toEqual({ ok: true, value: { topic: 't', partition: 0, spec: { timestamp: 5 } } });
    expect(decodeCreateTopicRequest({ name: 'n', partitions: 2, replicationFactor: 1, configs: { ['__proto__']: '1' } }, () => 'r')).toMatchObject({ ok: true, value: { configs: { ['__proto__']: '1' } } });
    expect(decodeProduceStreamRequest({ correlationId: 2 ** 60 })).toMatchObject({ ok: false, correlationId: null });
    expect(decodeProduceStreamRequest({ correlationId: 4 })).toMatchObject({ ok: false, correlationId: 4, error: { message: 'request is missing' } });
  });

  it('encodes records with the null flags', () => {
    expect(encodeRecord({ key: null, value: new Uint8Array(0), headers: [], timestamp: 5 })).toEqual({ key: new Uint8Array(0), keyNull: true, value: new Uint8Array(0), valueNull: false, headers: [], timestamp: 5 });
  });

  it('refuses controller results of a different request (a reused request id)', () => {
    const topic = { name: 't', id: 1, replicationFactor: 1, configs: { 'retention.ms': 5 }, partitions: [] };
    expect(encodeTopicAnswer(topic, 't', () => undefined, 'CreateTopic')).toMatchObject({ ok: true, value: { topic: { name: 't', configs: { 'retention.ms': '5' } } } });
    expect(encodeTopicAnswer({ producerId: 1_000, producerEpoch: 0 }, 't', () => undefined, 'CreateTopic')).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(encodeTopicAnswer(topic, 'other', () => undefined, 'CreateTopic')).toMatchObject({ ok: false });
    expect(encodeDeletedTopic({ deleted: 't' }, 't')).toEqual({ ok: true, value: {} });
    expect(encodeDeletedTopic(topic, 't')).toMatchObject({ ok: false });
    expect(encodeProducerId({ producerId: 1_000, producerEpoch: 0 })).toEqual({ ok: true, value: { producerId: 1_000, producerEpoch: 0 } });
    expect(encodeProducerId({ deleted: 't' })).toMatchObject({ ok: false });
  });
});

describe('SeededRng', () => {
  it('is a function of its seed', () => {
    const draw = (seed: number): number[] => {
      const r = new SeededRng(seed);
      return Array.from({ length: 50 }, () => r.nextInt(1_000));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(2 ** 40)).not.toEqual(draw(2 ** 40 + 2 ** 32)); // the high half matters too
  });

  it('stays in bounds and covers them evenly', () => {
    fc.assert(fc.property(fc.nat(), fc.integer({ min: 1, max: 2 ** 32 }), (seed, bound) => {
      const r = new SeededRng(seed);
      for (let i = 0; i < 20; i++) {
        const x = r.nextInt(bound);
        expect(Number.isInteger(x) && x >= 0 && x < bound).toBe(true);
      }
    }));
    const r = new SeededRng(1);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[r.nextInt(10)]! += 1;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(() => new SeededRng(-1)).toThrow();
    expect(() => r.nextInt(0)).toThrow();
  });
});
