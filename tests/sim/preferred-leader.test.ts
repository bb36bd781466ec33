// Preferred leaders (broker/partition/partition-duties.ts), in the simulator on a calm network: every
// partition ends up led by its preferred replica (the first of its replica list, which placement spreads
// across brokers), and leadership moved elsewhere comes back once the preferred replica is caught up.
import { describe, expect, it } from 'vitest';
import { defaultNodeConfig } from '../../broker/keel-node.ts';
import type { NodeId } from '../../raft/types.ts';
import { nodeId } from '../../raft/types.ts';
import { KeelApp } from '../../sim/apps/keel-app.ts';
import { FAST_DISK } from '../../sim/disk.ts';
import { CALM_NETWORK } from '../../sim/network.ts';
import { runUntilConverged } from '../../sim/phases.ts';
import { World } from '../../sim/world.ts';

const ids = [nodeId(1), nodeId(2), nodeId(3)];

function startCluster(seed: number): { w: World; app: (id: NodeId) => KeelApp } {
  const w = new World({ seed, nodeIds: ids, network: CALM_NETWORK, disk: FAST_DISK, clock: { skewMsMax: 0, driftMax: 0 }, keepTraceLines: false },
    (id, ports, onFatal) => new KeelApp(defaultNodeConfig(id, ids, `sim-${id}:9092`), ports, onFatal, {}));
  for (const id of ids) w.start(id);
  const app = (id: NodeId): KeelApp => w.proc(id).app as KeelApp;
  return { w, app };
}

/** Per partition of `topic`, as node 1's metadata sees it: [preferred, leader in Raft]. */
function leaders(app: (id: NodeId) => KeelApp, topic: string): [NodeId, NodeId | undefined][] {
  const t = app(ids[0] as NodeId).node.metadata.topics.get(topic);
  return (t?.groups ?? []).map((g) => {
    const preferred = app(ids[0] as NodeId).node.metadata.partitions.get(g)?.replicas[0] as NodeId;
    const leader = ids.find((id) => app(id).node.host.replica(g)?.isLeader === true);
    return [preferred, leader];
  });
}

/** Creates the topic once the cluster can (a refused attempt is retried under a new request id). */
function createTopic(w: World, app: (id: NodeId) => KeelApp, name: string, partitions: number): boolean {
  let created = false;
  let pending = false;
  let attempt = 0;
  return runUntilConverged(w, 10_000, () => {
    if (!created && !pending) {
      pending = true;
      app(ids[0] as NodeId).node.createTopic({ requestId: `${name}-${++attempt}`, name, partitions, replicationFactor: 3 }, (r) => {
        pending = false;
        created = r.ok;
      });
    }
    return created;
  });
}

const allPreferred = (ls: [NodeId, NodeId | undefined][]): boolean => ls.length > 0 && ls.every(([p, l]) => p === l);

describe('preferred leaders', () => {
  it('every partition ends up led by its preferred replica, one leader per broker for three partitions', () => {
    const { w, app } = startCluster(7);
    expect(createTopic(w, app, 'orders', 3)).toBe(true);
    expect(runUntilConverged(w, 20_000, () => allPreferred(leaders(app, 'orders')))).toBe(true);
    expect(new Set(leaders(app, 'orders').map(([p]) => p)).size).toBe(3);
  });

  it('a new topic is led by its preferred replicas, and the metadata says so, within half a second', () => {
    const { w, app } = startCluster(9);
    expect(createTopic(w, app, 'orders', 6)).toBe(true);
    const createdAtMs = w.now;
    const reported = (): boolean => {
      const t = app(ids[0] as NodeId).node.metadata.topics.get('orders');
      return t !== undefined && t.groups.every((g) => app(ids[0] as NodeId).node.metadata.partitions.get(g)?.leader !== 0);
    };
    // Without the early campaign a new group waits a randomized election timeout (10-20 ticks of 50 ms)
    // and its leader is reported at the next duty round (10 ticks).
    expect(runUntilConverged(w, 500, () => allPreferred(leaders(app, 'orders')) && reported())).toBe(true);
    expect(w.now - createdAtMs).toBeLessThan(500);
  });

  it('leadership moved away from the preferred replica comes back to it', () => {
    const { w, app } = startCluster(8);
    expect(createTopic(w, app, 'orders', 1)).toBe(true);
    expect(runUntilConverged(w, 20_000, () => allPreferred(leaders(app, 'orders')))).toBe(true);
    const [[preferred]] = leaders(app, 'orders') as [[NodeId, NodeId]];
    const group = app(ids[0] as NodeId).node.metadata.topics.get('orders')?.groups[0] as number;
    const other = ids.find((id) => id !== preferred) as NodeId;
    const r = app(preferred).node.host.replica(group);
    r?.raw.transferLeader(other);
    r?.onWork();
    expect(runUntilConverged(w, 5_000, () => leaders(app, 'orders')[0]?.[1] === other)).toBe(true);
    expect(runUntilConverged(w, 20_000, () => allPreferred(leaders(app, 'orders')))).toBe(true);
  });
});
