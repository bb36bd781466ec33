// Hop tracing (net/hop-trace.ts) and the timeline the hop bench prints (bench/hop-timeline.ts): the
// wrapped ports mark turns, writes and frames only while recording, and the timeline names nodes by
// their role in each record and takes medians across records.
import { describe, expect, it } from 'vitest';
import type { Frame, Ports, StorageError } from '../../broker/ports.ts';
import { hopTimeline } from '../../bench/hop-timeline.ts';
import { HopTrace, tracePorts, type HopMark } from '../../net/hop-trace.ts';
import type { NodeId } from '../../raft/types.ts';

function fakePorts(): { ports: Ports; fireTimers: () => void; finishWrite: () => void } {
  const timers: (() => void)[] = [];
  let writeDone: ((err: StorageError | null) => void) | null = null;
  const ports = {
    clock: { now: () => 0, wallMs: () => 0, cancelTimer: () => {}, setTimer: (_ms: number, fn: () => void) => { timers.push(fn); return { id: timers.length }; } },
    storage: { load: () => {}, write: (_b: unknown, done: (err: StorageError | null) => void) => { writeDone = done; } },
    transport: { send: () => {} },
  } as unknown as Ports;
  return { ports, fireTimers: () => { for (const t of timers.splice(0)) t(); }, finishWrite: () => writeDone?.(null) };
}

describe('hop trace', () => {
  it('marks turns, writes and frames while recording, and nothing otherwise', () => {
    const trace = new HopTrace();
    const { ports, fireTimers, finishWrite } = fakePorts();
    const traced = tracePorts(ports, trace);
    let turns = 0;
    let written = 0;
    const act = (): void => {
      traced.clock.setTimer(0, () => turns++);
      traced.clock.setTimer(50, () => {}); // a tick: not a turn
      traced.storage.write([], () => written++);
      traced.transport.send(2 as NodeId, {} as Frame);
      fireTimers();
      finishWrite();
    };
    act();
    expect(trace.stop()).toEqual([]);
    trace.start();
    act();
    expect(trace.stop().map((m) => m.label)).toEqual(['write', 'send>2', 'turn', 'written']);
    expect([turns, written]).toEqual([2, 2]);
  });

  it('names the leader and followers by role in each record and takes the median across records', () => {
    const client: HopMark[] = [];
    const nodes = new Map<number, HopMark[]>([[1, []], [2, []], [3, []]]);
    const at = (node: number, us: number, label: string): void => void (nodes.get(node) as HopMark[]).push({ us, label });
    // Three records with leaders 1, 2, 3; the first follower to hear from the leader answers.
    for (const [k, leader] of [1, 2, 3].entries()) {
      const base = k * 10_000;
      const [f1, f2] = [1, 2, 3].filter((n) => n !== leader) as [number, number];
      const slow = k === 2 ? 100 : 0; // the last record is slower on the follower's disk
      client.push({ us: base, label: 'send' });
      at(leader, base + 100, 'request');
      at(leader, base + 120, `send>${f1}`);
      at(leader, base + 125, `send>${f2}`);
      at(f1, base + 220, `recv<${leader}`);
      at(f2, base + 260, `recv<${leader}`);
      at(f1, base + 500 + slow, `send>${leader}`);
      at(leader, base + 600 + slow, `recv<${f1}`);
      at(leader, base + 620 + slow, 'answer');
      client.push({ us: base + 700 + slow, label: 'answer' });
    }
    at(1, 5_000, 'turn'); // between records: belongs to none
    expect(hopTimeline(client, nodes)).toEqual([
      { event: 'L:request#1', medianUs: 100, share: 1 },
      { event: 'L:send>F1#1', medianUs: 120, share: 1 },
      { event: 'L:send>F2#1', medianUs: 125, share: 1 },
      { event: 'F1:recv<L#1', medianUs: 220, share: 1 },
      { event: 'F2:recv<L#1', medianUs: 260, share: 1 },
      { event: 'F1:send>L#1', medianUs: 500, share: 1 },
      { event: 'L:recv<F1#1', medianUs: 600, share: 1 },
      { event: 'L:answer#1', medianUs: 620, share: 1 },
      { event: 'client:answer#1', medianUs: 700, share: 1 },
    ]);
  });
});
