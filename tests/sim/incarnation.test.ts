// A node's incarnation (KeelNode.incarnation) names one process life: peers address node-to-node requests
// by it, and the controller tells a restarted broker by it. It must differ between lives even when the
// start count does not: here a crash loses the write of the count (the node already talked by then).
import { describe, expect, it } from 'vitest';
import { defaultNodeConfig } from '../../broker/keel-node.ts';
import type { Frame } from '../../broker/ports.ts';
import { nodeId, type NodeId } from '../../raft/types.ts';
import { KeelApp } from '../../sim/apps/keel-app.ts';
import { FAST_DISK } from '../../sim/disk.ts';
import { CALM_NETWORK } from '../../sim/network.ts';
import { World } from '../../sim/world.ts';

describe('incarnations', () => {
  it('a life whose start count never reached the disk is still told apart from the next one', () => {
    const ids = [1, 2, 3].map(nodeId);
    const w = new World({ seed: 7, nodeIds: ids, network: CALM_NETWORK, disk: FAST_DISK, clock: { skewMsMax: 0, driftMax: 0 }, keepTraceLines: false },
      (id, ports, onFatal) => new KeelApp({ ...defaultNodeConfig(id, ids, `sim-${id}:9092`), controllerVoters: ids }, ports, onFatal, {}));
    const announced = new Map<number, Set<number>>();
    const send = w.network.send.bind(w.network);
    w.network.send = (from: NodeId, to: NodeId, f: Frame): void => {
      if (from === nodeId(1)) {
        const life = w.proc(nodeId(1)).incarnation;
        announced.set(life, (announced.get(life) ?? new Set()).add(f.fromIncarnation));
      }
      send(from, to, f);
    };
    const node1 = (): KeelApp['node'] => (w.proc(nodeId(1)).app as KeelApp).node;
    for (const id of ids) w.start(id);
    w.sched.runUntil(3_000);
    // Life 2 runs on a disk so slow that its first write (the start count) is still in flight at the crash.
    w.crash(nodeId(1));
    const disk = w.proc(nodeId(1)).disk;
    disk.options = { ...FAST_DISK, writeLatencyMinMs: 2_000, crashKeepsInFlightProbability: 0 };
    w.start(nodeId(1));
    w.sched.runUntil(4_500);
    const second = { starts: node1().starts, incarnation: node1().incarnation, writing: node1().writeInFlight };
    w.crash(nodeId(1));
    disk.options = FAST_DISK;
    w.start(nodeId(1));
    w.sched.runUntil(6_000);
    const third = { starts: node1().starts, incarnation: node1().incarnation };
    expect(second.writing).toBe(true);
    expect(third.starts).toBe(second.starts);
    expect(third.incarnation).not.toBe(second.incarnation);
    // Each life's frames carried its own incarnation only.
    const lives = [...announced.keys()].sort((a, b) => a - b);
    expect(lives.slice(-2).map((l) => [...(announced.get(l) ?? [])])).toEqual([[second.incarnation], [third.incarnation]]);
  });
});
