// The simulated world's parts behave as their contracts say, and the workload checkers catch the
// anomalies they name (lost write; no progress after heal).
import { describe, expect, it } from 'vitest';
import type { Frame, WriteOp } from '../../broker/ports.ts';
import { nodeId, type Index, type NodeId, type Term } from '../../raft/types.ts';
import { RegisterMachine } from '../../sim/apps/register-machine.ts';
import { SimDisk, FAST_DISK } from '../../sim/disk.ts';
import { CALM_NETWORK, SimNetwork } from '../../sim/network.ts';
import { SimRng } from '../../sim/rng.ts';
import { Scheduler } from '../../sim/scheduler.ts';
import { World } from '../../sim/world.ts';
import { RaftWorkload, type ProposeOp } from '../../sim/workload/raft-workload.ts';

const put = (key: string, v: number): WriteOp => ({ type: 'put', key, value: new Uint8Array([v]) });

describe('scheduler', () => {
  it('runs events in (time, insertion) order, and immediates right after their event', () => {
    const s = new Scheduler();
    const order: string[] = [];
    s.at(5, () => order.push('b'));
    s.at(1, () => {
      order.push('a');
      s.immediate(() => order.push('a+'));
    });
    s.at(5, () => order.push('c'));
    s.runUntil(10);
    expect(order).toEqual(['a', 'a+', 'b', 'c']);
    expect(s.now).toBe(10);
  });
});

describe('disk', () => {
  it('a write is durable when its completion fires; a crash keeps or loses an in-flight batch whole', () => {
    for (const keep of [0, 1]) {
      const disk = new SimDisk(new SimRng(1, 'd'), { ...FAST_DISK, crashKeepsInFlightProbability: keep });
      let fire: (() => void) | undefined;
      disk.write([put('a', 1)], (_d, fn) => { fire = fn; }, () => {});
      fire?.();
      disk.write([put('b', 2), put('c', 3)], () => {}, () => {});
      expect(disk.hasWritesInFlight).toBe(true);
      disk.crash();
      const keys = [...disk.snapshot().keys()];
      expect(keys).toEqual(keep === 1 ? ['a', 'b', 'c'] : ['a']);
    }
  });

  it('range deletes remove exactly the range; corruption flips bits of one record', () => {
    const disk = new SimDisk(new SimRng(2, 'd'), FAST_DISK);
    let fire: (() => void) | undefined;
    disk.write([put('g/00000001/e/1', 1), put('g/00000001/e/2', 2), put('g/00000001/e/3', 3), { type: 'delRange', gte: 'g/00000001/e/2', lt: 'g/00000001/e0' }], (_d, fn) => { fire = fn; }, () => {});
    fire?.();
    expect([...disk.snapshot().keys()]).toEqual(['g/00000001/e/1']);
    const key = disk.corrupt(() => true);
    expect(key).toBe('g/00000001/e/1');
    expect(disk.snapshot().get('g/00000001/e/1')).not.toEqual(new Uint8Array([1]));
  });
});

describe('network', () => {
  it('delivers on intact links, drops on cut ones (including frames already in flight)', () => {
    const s = new Scheduler();
    const got: NodeId[] = [];
    const net = new SimNetwork({ now: () => s.now, schedule: (at, fn) => s.at(at, fn), deliver: (to) => got.push(to) }, new SimRng(3, 'n'), CALM_NETWORK);
    const frame = (to: number): Frame => ({ from: nodeId(1), to: nodeId(to), fromIncarnation: 0, messages: [], rpcs: [] });
    net.send(nodeId(1), nodeId(2), frame(2));
    net.send(nodeId(1), nodeId(3), frame(3));
    net.cutLink(nodeId(1), nodeId(3)); // cut while in flight
    net.send(nodeId(1), nodeId(3), frame(3));
    s.runUntil(1_000);
    expect(got).toEqual([2]);
    net.heal();
    net.send(nodeId(1), nodeId(3), frame(3));
    s.runUntil(2_000);
    expect(got).toEqual([2, 3]);
    expect(net.stats.dropped).toBe(2);
  });
});

describe('register machine', () => {
  it('a snapshot restores every applied payload, and nothing else', () => {
    const m = new RegisterMachine();
    const enc = new TextEncoder();
    m.apply({ index: 2 as Index, term: 1 as Term, type: 'normal', data: enc.encode('c0-1') });
    m.apply({ index: 3 as Index, term: 1 as Term, type: 'normal', data: new Uint8Array(0) });
    m.apply({ index: 4 as Index, term: 2 as Term, type: 'normal', data: enc.encode('c1-2 ü') });
    const copy = new RegisterMachine();
    copy.apply({ index: 9 as Index, term: 3 as Term, type: 'normal', data: enc.encode('gone') });
    copy.restore(m.snapshot(), 4 as Index);
    expect([2, 3, 4, 9].map((i) => copy.payloadAt(i))).toEqual(['c0-1', undefined, 'c1-2 ü', undefined]);
    expect(() => copy.restore(m.snapshot().subarray(0, 10), 4 as Index)).toThrow(/malformed/);
  });
});

describe('workload checkers', () => {
  const world = new World({ seed: 1, nodeIds: [nodeId(1)], network: CALM_NETWORK, disk: FAST_DISK, clock: { skewMsMax: 0, driftMax: 0 }, keepTraceLines: false }, () => ({ start() {}, stop() {}, receive() {}, writeInFlight: false }));
  const op = (payload: string, status: ProposeOp['status'], index: number, invokedAtMs: number, completedAtMs: number): ProposeOp => ({ client: 0, payload, invokedAtMs, status, index, completedAtMs });

  it('lost write: an acknowledged payload missing (or different) on a live replica', () => {
    const w = new RaftWorkload(world, { clients: 1, requestTimeoutMs: 1_000, thinkTimeMs: 1, linkDelayMs: 1 });
    w.ops.push(op('x', 'ok', 2, 0, 5), op('y', 'ok', 3, 0, 5), op('z', 'unknown', 0, 0, 5));
    const applied = (byIndex: Record<number, string>): RegisterMachine => {
      const m = new RegisterMachine();
      for (const [i, v] of Object.entries(byIndex)) m.apply({ index: Number(i) as Index, term: 1 as Term, type: 'normal', data: new TextEncoder().encode(v) });
      return m;
    };
    expect(w.durabilityViolations(new Map([[nodeId(1), applied({ 2: 'x', 3: 'y' })]]))).toEqual([]);
    const v = w.durabilityViolations(new Map([[nodeId(1), applied({ 2: 'x', 3: 'other' })], [nodeId(2), applied({ 2: 'x' })]]));
    expect(v.map((x) => x.checker)).toEqual(['lost-write', 'lost-write']);
  });

  it('liveness: nothing committed after the heal, or failures after recovery', () => {
    const w = new RaftWorkload(world, { clients: 1, requestTimeoutMs: 1_000, thinkTimeMs: 1, linkDelayMs: 1 });
    w.healPhaseStarted(); // at time 0
    w.ops.push(op('a', 'unknown', 0, 10, 1_010));
    expect(w.livenessViolations(5_000).map((x) => x.checker)).toEqual(['liveness']);
    w.ops.push(op('b', 'ok', 4, 1_100, 1_200));
    expect(w.livenessViolations(5_000)).toEqual([]);
    w.ops.push(op('c', 'fail', 0, 1_300, 1_400));
    expect(w.livenessViolations(5_000).map((x) => x.checker)).toEqual(['liveness']);
  });
});
