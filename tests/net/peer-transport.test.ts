// The gRPC peer transport between real sockets on 127.0.0.1: frames flow both ways on one stream per
// pair, a restarted peer is found again, garbage and misrouted frames are counted and dropped, and an
// unreachable peer costs dropped frames, never an exception.
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Frame, Logger } from '../../broker/ports.ts';
import { encodeFrame } from '../../net/peer-codec.ts';
import { openPeerStream } from '../../net/peer-service.ts';
import { PeerTransport } from '../../net/peer-transport.ts';
import { index, term, type Entry } from '../../raft/types.ts';
import { connectAll, heartbeat, id, keepSendingUntil, startNode, stopNode, waitFor, type TestNode } from './peer-helpers.ts';

const running: TestNode[] = [];
const cleanups: (() => void)[] = [];

async function node(n: number, port = 0, limits = {}, logger?: Logger): Promise<TestNode> {
  const t = await startNode(n, port, limits, logger);
  running.push(t);
  return t;
}

afterEach(() => {
  for (const t of running.splice(0)) stopNode(t);
  for (const c of cleanups.splice(0)) c();
});

describe('peer transport', () => {
  it('carries frames both ways, in order, over one stream per pair', async () => {
    const [a, b] = [await node(1), await node(2)];
    connectAll([a, b]);
    for (let g = 0; g < 50; g++) a.transport.send(id(2), heartbeat(1, 2, g));
    await waitFor(() => b.received.length === 50, 'b to receive 50 frames');
    expect(b.received.map((f) => f.messages[0]?.group)).toEqual([...Array(50).keys()]);
    expect(b.received[0]).toEqual(heartbeat(1, 2, 0));

    b.transport.send(id(1), heartbeat(2, 1, 7));
    await waitFor(() => a.received.length === 1, 'a to receive the answer');
    expect(a.received[0]).toEqual(heartbeat(2, 1, 7));
    // b answered on the stream a dialed: no second stream.
    expect(a.transport.streamCount(id(2))).toBe(1);
    expect(b.transport.streamCount(id(1))).toBe(1);
    expect(a.transport.stats.framesSent).toBe(50);
    expect(b.transport.stats.framesReceived).toBe(50);
    expect(a.transport.stats.dropped + b.transport.stats.dropped).toBe(0);
  });

  it('converges on the lower id\'s stream when both sides dial at once', async () => {
    const nodes = [await node(1), await node(2), await node(3)];
    connectAll(nodes);
    for (const x of nodes) for (const y of nodes) if (x !== y) x.transport.send(y.id, heartbeat(x.id, y.id, x.id * 10 + y.id));
    await waitFor(() => nodes.every((x) => x.received.length === 2), 'every node to hear from both others');
    for (const x of nodes) {
      expect(x.received.map((f) => f.from).sort()).toEqual(nodes.filter((y) => y !== x).map((y) => y.id));
    }
    await waitFor(() => nodes.every((x) => nodes.every((y) => x === y || x.transport.streamCount(y.id) === 1)), 'one stream per pair');
    // Still works after the duplicates were closed.
    nodes[2]!.transport.send(id(1), heartbeat(3, 1, 99));
    await waitFor(() => nodes[0]!.received.length === 3, 'a frame after convergence');
  });

  it('reconnects to a peer that was killed and restarted on the same port', async () => {
    const a = await node(1);
    const b = await node(2);
    connectAll([a, b]);
    a.transport.send(id(2), heartbeat(1, 2, 1));
    await waitFor(() => b.received.length === 1, 'first frame');

    stopNode(b); // kill: server and transport gone, connections reset
    running.splice(running.indexOf(b), 1);
    await keepSendingUntil(() => a.transport.send(id(2), heartbeat(1, 2, 2)), () => a.transport.stats.dropped > 0, 'sends to a dead peer to be dropped');

    const b2 = await node(2, b.port);
    b2.transport.setPeerAddress(id(1), `127.0.0.1:${a.port}`);
    await keepSendingUntil(() => a.transport.send(id(2), heartbeat(1, 2, 3)), () => b2.received.length > 0, 'the restarted peer to receive');
    expect(a.transport.stats.reconnects).toBeGreaterThanOrEqual(1);
    b2.transport.send(id(1), heartbeat(2, 1, 4));
    await waitFor(() => a.received.some((f) => f.messages[0]?.group === 4), 'the restarted peer to answer');
  });

  it('counts and drops garbage on the raw stream, and keeps serving', async () => {
    const [a, b] = [await node(1), await node(2)];
    connectAll([a, b]);
    const client = new grpc.Client(`127.0.0.1:${b.port}`, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    const raw = openPeerStream(client, 1, 2);
    raw.on('error', () => {});
    const garbage = [Buffer.from([0xff, 0xff, 0xff]), Buffer.from('not a frame at all'), Buffer.alloc(0), Buffer.from([0x08, 0x00])];
    for (let i = 0; i < 20; i++) garbage.push(Buffer.from(Array.from({ length: 64 }, (_, j) => (i * 31 + j * 7) & 0xff)));
    for (const g of garbage) raw.write(g);
    // A well-formed frame naming another node, and one claiming another sender, on a stream from node 1.
    raw.write(Buffer.from(encodeFrame(heartbeat(1, 3, 0))));
    raw.write(Buffer.from(encodeFrame(heartbeat(3, 2, 0))));
    raw.write(Buffer.from(encodeFrame(heartbeat(1, 2, 42))));
    await waitFor(() => b.received.length === 1, 'the one valid frame');
    expect(b.received[0]!.messages[0]!.group).toBe(42);
    // Buffer.alloc(0) is a valid empty protobuf message, but frame.from 0 fails validation.
    expect(b.transport.stats.decodeErrors).toBe(garbage.length);
    expect(b.transport.stats.dropReasons.misaddressed).toBe(2);
    raw.end();

    a.transport.send(id(2), heartbeat(1, 2, 43));
    await waitFor(() => b.received.length === 2, 'normal traffic after the garbage');
  });

  it('refuses a dial that reaches the wrong node, and says so', async () => {
    const warnings: { msg: string; fields: Record<string, unknown> | undefined }[] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (msg, fields) => void warnings.push({ msg, fields }) };
    const [a, c] = [await node(1, 0, {}, logger), await node(3)];
    a.transport.setPeerAddress(id(2), `127.0.0.1:${c.port}`); // stale address: node 3 lives there
    await keepSendingUntil(() => a.transport.send(id(2), heartbeat(1, 2, 0)), () => a.transport.stats.reconnects >= 2, 'a few refused dials');
    expect(c.received).toEqual([]);
    expect(a.transport.connectedPeers()).toEqual([]);
    // Never counted as up (a refusal carries no headers), and the reason reaches the log.
    expect(warnings.map((w) => w.msg)).not.toContain('peer stream lost');
    expect(warnings[0]).toMatchObject({ msg: 'cannot reach peer', fields: { peer: 2, code: grpc.status.FAILED_PRECONDITION, details: 'this is node 3, not 2' } });
  });

  it('drops sends to an unreachable or unknown peer without throwing', async () => {
    const gone = await node(9);
    const deadPort = gone.port;
    stopNode(gone);
    running.splice(running.indexOf(gone), 1);
    const a = await node(1);
    a.transport.setPeerAddress(id(9), `127.0.0.1:${deadPort}`);
    const sent = 200;
    for (let i = 0; i < sent; i++) expect(() => a.transport.send(id(9), heartbeat(1, 9, i))).not.toThrow();
    expect(() => a.transport.send(id(5), heartbeat(1, 5, 0))).not.toThrow(); // no address at all
    await waitFor(() => a.transport.stats.dropped === sent + 1, 'every frame to be dropped');
    expect(a.transport.stats.dropReasons.noRoute).toBe(1);
    expect(a.transport.stats.framesSent).toBe(0);
  });

  it('bounds the send queue while a dial is pending', async () => {
    const gone = await node(9);
    stopNode(gone);
    running.splice(running.indexOf(gone), 1);
    const a = await node(1, 0, { sendQueueFramesMax: 10 });
    a.transport.setPeerAddress(id(9), `127.0.0.1:${gone.port}`);
    for (let i = 0; i < 50; i++) a.transport.send(id(9), heartbeat(1, 9, i));
    expect(a.transport.stats.dropReasons.queueFull).toBe(40);
    await waitFor(() => a.transport.stats.dropped === 50, 'the queued ten to be dropped with the failed dial');
  });

  it('splits a frame too big for one message into ordered parts', async () => {
    const [a, b] = [await node(1, 0, { framePartBytesTarget: 64 << 10 }), await node(2)];
    connectAll([a, b]);
    const entries = (g: number): Entry[] => Array.from({ length: 4 }, (_, i) => ({ term: term(1), index: index(i + 1), type: 'normal', data: new Uint8Array(10_000).fill(g) }));
    const frame: Frame = {
      from: id(1), to: id(2), fromIncarnation: 1,
      messages: Array.from({ length: 20 }, (_, g) => ({ group: g, msg: { type: 'app', from: id(1), to: id(2), term: term(1), index: index(0), logTerm: term(0), entries: entries(g), commit: index(0) } })),
      rpcs: [{ kind: 'request', id: 1, method: 'ping', body: { x: 1 }, toIncarnation: 2 }],
    };
    a.transport.send(id(2), frame);
    await waitFor(() => b.received.flatMap((f) => f.messages).length === 20, 'all 20 messages');
    expect(b.received.length).toBeGreaterThan(1);
    // Compared as hex: vitest's deep equality walks typed arrays element by element (seconds for 800 KB).
    const hex = (f: readonly Frame[]): unknown[] => f.flatMap((x) => x.messages).map((gm) => ({ ...gm, msg: { ...gm.msg, entries: gm.msg.type === 'app' ? gm.msg.entries.map((e) => ({ ...e, data: Buffer.from(e.data).toString('hex') })) : [] } }));
    expect(hex(b.received)).toEqual(hex([frame]));
    expect(b.received.flatMap((f) => f.rpcs)).toEqual(frame.rpcs);
  });

  it('never delivers frames after close, and send after close does not throw', async () => {
    const [a, b] = [await node(1), await node(2)];
    connectAll([a, b]);
    a.transport.send(id(2), heartbeat(1, 2, 0));
    await waitFor(() => b.received.length === 1, 'first frame');
    a.transport.close();
    expect(() => a.transport.send(id(2), heartbeat(1, 2, 1))).not.toThrow();
    expect(a.transport.stats.dropReasons.noRoute).toBe(1);
    expect(new PeerTransport({ nodeId: id(4) }).stats.dropped).toBe(0);
  });
});
