// The client's error classification (net/client/errors.ts) and admin targeting (admin-target.ts): what a
// failed call becomes, which errors are worth retrying, where the next admin attempt goes, and the one
// clear message when no bootstrap address answers - checked against a real closed port too.
import { createServer, type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { KEEL_CODE_HEADER, KEEL_LEADER_ADDRESS_HEADER, KEEL_LEADER_HEADER } from '../../net/client-schema.ts';
import { AdminTarget } from '../../net/client/admin-target.ts';
import { connectionFailureReason, errorFromMessage, errorFromStatus, isRetriableCode, KeelError } from '../../net/client/errors.ts';
import { KeelClient, parseBootstrap } from '../../net/client/keel-client.ts';

function status(code: grpc.status, details: string, trailers: Record<string, string> = {}): grpc.StatusObject {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(trailers)) metadata.set(k, v);
  return { code, details, metadata };
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('errors from a failed unary call', () => {
  it('take the keel-code and the leader hint from the trailers', () => {
    const e = errorFromStatus(status(grpc.status.UNAVAILABLE, 'node 1 is not the leader of t/0; try node 2', {
      [KEEL_CODE_HEADER]: 'NOT_LEADER', [KEEL_LEADER_HEADER]: '2', [KEEL_LEADER_ADDRESS_HEADER]: '127.0.0.1:9002',
    }), '127.0.0.1:9001');
    expect(e).toBeInstanceOf(KeelError);
    expect(e).toMatchObject({ code: 'NOT_LEADER', grpcStatus: grpc.status.UNAVAILABLE, leader: 2, leaderAddress: '127.0.0.1:9002', retriable: true, address: '127.0.0.1:9001' });
    expect(e.message).toBe('node 1 is not the leader of t/0; try node 2');
  });

  it('leave the hint out when the node knows no leader', () => {
    const e = errorFromStatus(status(grpc.status.UNAVAILABLE, 'no controller', { [KEEL_CODE_HEADER]: 'NOT_CONTROLLER' }), 'a:1');
    expect(e.code).toBe('NOT_CONTROLLER');
    expect(e.leader).toBeUndefined();
    expect(e.leaderAddress).toBeUndefined();
    expect(e.retriable).toBe(true);
  });

  it('are final for bad input, unknown topics and sequence errors', () => {
    for (const code of ['INVALID_TOPIC', 'TOPIC_ALREADY_EXISTS', 'UNKNOWN_TOPIC', 'RECORD_TOO_LARGE', 'OUT_OF_ORDER_SEQUENCE', 'INVALID_PRODUCER_EPOCH', 'OFFSET_OUT_OF_RANGE', 'INTERNAL']) {
      expect(errorFromStatus(status(grpc.status.INVALID_ARGUMENT, 'x', { [KEEL_CODE_HEADER]: code }), 'a:1').retriable, code).toBe(false);
    }
    for (const code of ['NOT_LEADER', 'NOT_CONTROLLER', 'REQUEST_TIMED_OUT', 'NOT_ENOUGH_REPLICAS', 'BROKER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION', 'TOO_MANY_REQUESTS']) {
      expect(isRetriableCode(code), code).toBe(true);
    }
  });

  it('without a keel-code, name the transport failure', () => {
    const refused = errorFromStatus(status(grpc.status.UNAVAILABLE, 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:9092. Resolution note: '), '127.0.0.1:9092');
    expect(refused).toMatchObject({ code: 'CONNECTION_FAILED', retriable: true, message: 'cannot reach 127.0.0.1:9092 (connection refused)' });
    expect(refused.connectionLevel).toBe(true);
    expect(errorFromStatus(status(grpc.status.UNAVAILABLE, 'Connection dropped'), 'a:1')).toMatchObject({ code: 'UNAVAILABLE', retriable: true });
    expect(errorFromStatus(status(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'), 'a:1')).toMatchObject({ code: 'DEADLINE_EXCEEDED', retriable: true });
    expect(errorFromStatus(status(grpc.status.UNIMPLEMENTED, 'no such method'), 'a:1')).toMatchObject({ code: 'UNIMPLEMENTED', retriable: false });
    expect(errorFromStatus(status(grpc.status.RESOURCE_EXHAUSTED, 'message larger than max'), 'a:1')).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retriable: false });
  });

  it('give short reasons for connection failures', () => {
    expect(connectionFailureReason('Name resolution failed for target dns:nosuch.invalid:9')).toBe('name resolution failed');
    expect(connectionFailureReason('No connection established. Last error: connect EHOSTUNREACH')).toBe('host unreachable');
    expect(connectionFailureReason('Stream refused by server')).toBeNull();
  });
});

describe('errors inside a stream', () => {
  it('come from the Error message, leader 0 meaning none', () => {
    const e = errorFromMessage({ code: 'NOT_LEADER', message: 'moved', leader: 3, leaderAddress: 'h:3' }, 'h:1');
    expect(e).toMatchObject({ code: 'NOT_LEADER', grpcStatus: null, leader: 3, leaderAddress: 'h:3', retriable: true });
    const none = errorFromMessage({ code: 'OFFSET_OUT_OF_RANGE', message: 'below log start', leader: 0, leaderAddress: '' }, 'h:1');
    expect(none.leader).toBeUndefined();
    expect(none.retriable).toBe(false);
  });
});

describe('admin target', () => {
  const notController = (leaderAddress?: string): KeelError => new KeelError({ code: 'NOT_CONTROLLER', message: 'x', grpcStatus: grpc.status.UNAVAILABLE, ...(leaderAddress !== undefined ? { leaderAddress } : {}) });
  const refused = (a: string): KeelError => new KeelError({ code: 'CONNECTION_FAILED', message: `cannot reach ${a} (connection refused)`, grpcStatus: grpc.status.UNAVAILABLE, address: a });

  it('follows the controller hint, else rotates through the bootstrap addresses', () => {
    const t = new AdminTarget(['a:1', 'b:2', 'c:3']);
    expect(t.current()).toBe('a:1');
    t.failed('a:1', notController('c:3'));
    expect(t.current()).toBe('c:3');
    t.failed('c:3', notController());
    expect(t.current()).toBe('b:2');
    t.failed('b:2', notController());
    expect(t.current()).toBe('c:3');
    t.failed('c:3', refused('c:3'));
    expect(t.current()).toBe('a:1');
  });

  it('ignores a failure of an address that is no longer the target', () => {
    const t = new AdminTarget(['a:1', 'b:2']);
    t.failed('a:1', notController('b:2'));
    t.failed('a:1', notController());
    expect(t.current()).toBe('b:2');
  });

  it('says which addresses could not be reached once all of them failed to connect', () => {
    const t = new AdminTarget(['a:1', 'b:2']);
    t.failed('a:1', refused('a:1'));
    expect(t.allUnreachable()).toBe(false);
    t.failed('b:2', refused('b:2'));
    expect(t.allUnreachable()).toBe(true);
    expect(t.unreachableMessage()).toBe('cannot reach any bootstrap address: a:1 (connection refused), b:2 (connection refused)');
    t.answered('a:1');
    expect(t.allUnreachable()).toBe(false);
  });
});

describe('bootstrap addresses', () => {
  it('must be host:port', () => {
    expect(parseBootstrap([' 127.0.0.1:9092', 'localhost:1', '[::1]:80', '127.0.0.1:9092'])).toEqual(['127.0.0.1:9092', 'localhost:1', '[::1]:80']);
    for (const bad of ['127.0.0.1', 'host:', ':9092', 'host:99999', 'a b:1']) expect(() => parseBootstrap([bad]), bad).toThrow(/bad bootstrap address/);
    expect(() => parseBootstrap([])).toThrow(/at least one/);
  });

  it('that nothing listens on give one clear error', async () => {
    const [p1, p2] = [await closedPort(), await closedPort()];
    const client = new KeelClient({ bootstrap: [`127.0.0.1:${p1}`, `127.0.0.1:${p2}`], requestTimeoutMs: 2_000 });
    try {
      const e = await client.listTopics().then(() => null, (err: unknown) => err);
      expect(e).toBeInstanceOf(KeelError);
      expect(e).toMatchObject({ code: 'CONNECTION_FAILED', retriable: true });
      expect((e as KeelError).message).toBe(`cannot reach any bootstrap address: 127.0.0.1:${p1} (connection refused), 127.0.0.1:${p2} (connection refused)`);
    } finally {
      client.close();
    }
  });

  it('a closed client refuses calls', async () => {
    const client = new KeelClient({ bootstrap: ['127.0.0.1:1'] });
    client.close();
    await expect(client.listTopics()).rejects.toMatchObject({ code: 'CLOSED', retriable: false });
    expect(() => client.producer()).toThrow(/closed/);
  });
});
