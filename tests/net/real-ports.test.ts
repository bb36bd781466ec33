// The real ports under the real core: three NodeHosts in one process, each on its own RealClock,
// PeerTransport (gRPC on 127.0.0.1) and LevelDbStorage, elect a leader, replicate proposals, and a
// follower killed and restarted from its data directory recovers and catches up. A smoke test of the
// adapters' contracts as the driver uses them, not of Raft (the simulator covers that).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_REPLICA_OPTIONS, NodeHost } from '../../broker/node-host.ts';
import { SILENT, type GroupId, type StorageError } from '../../broker/ports.ts';
import type { ProposeOutcome, StateMachine } from '../../broker/replica.ts';
import { startGrpcServer } from '../../net/grpc-server.ts';
import { LevelDbStorage } from '../../net/leveldb-storage.ts';
import { PeerServer } from '../../net/peer-service.ts';
import { PeerTransport } from '../../net/peer-transport.ts';
import { RealClock } from '../../net/real-clock.ts';
import { nodeId, type Entry, type Index, type NodeId } from '../../raft/types.ts';
import { waitFor } from './peer-helpers.ts';

const GROUP: GroupId = 1;
const VOTERS = [1, 2, 3].map(nodeId);
const dec = new TextDecoder();

/** Remembers every applied payload by index. */
class Ledger implements StateMachine {
  readonly applied = new Map<number, string>();
  apply(e: Entry): unknown {
    if (e.data.byteLength > 0) this.applied.set(e.index, dec.decode(e.data));
    return e.index;
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([...this.applied]));
  }
  restore(data: Uint8Array, _index: Index): void {
    this.applied.clear();
    for (const [i, v] of JSON.parse(dec.decode(data)) as [number, string][]) this.applied.set(i, v);
  }
}

interface RealNode {
  readonly id: NodeId;
  readonly host: NodeHost;
  readonly ledger: Ledger;
  readonly transport: PeerTransport;
  readonly storage: LevelDbStorage;
  readonly clock: RealClock;
  readonly server: grpc.Server;
  readonly port: number;
  readonly fatal: StorageError[];
}

const nodes = new Map<NodeId, RealNode>();
const dirs: string[] = [];

async function startReal(id: NodeId, dir: string, port: number, peers: ReadonlyMap<NodeId, string>): Promise<RealNode> {
  const opened = await LevelDbStorage.open(dir);
  if (!opened.ok) throw new Error(opened.error.message);
  const transport = new PeerTransport({ nodeId: id, peers });
  const started = await startGrpcServer(`127.0.0.1:${port}`, [new PeerServer(transport)]);
  if (!started.ok) throw new Error(started.error);
  const clock = new RealClock({ unrefTimers: true });
  const ledger = new Ledger();
  const fatal: StorageError[] = [];
  const host = new NodeHost({
    nodeId: id,
    tickMs: 20,
    raft: {},
    replica: DEFAULT_REPLICA_OPTIONS,
    bootstrap: [{ group: GROUP, voters: VOTERS }],
    stateMachine: () => ledger,
  }, { clock, rng: { nextInt: (bound) => Math.floor(Math.random() * bound) }, transport, storage: opened.storage, logger: SILENT }, {}, (e) => fatal.push(e));
  transport.setFrameHandler((f) => host.driver.receive(f));
  host.start();
  const node: RealNode = { id, host, ledger, transport, storage: opened.storage, clock, server: started.server, port: started.port, fatal };
  nodes.set(id, node);
  return node;
}

/** kill -9 as far as one process allows: everything stops at once, nothing is flushed on purpose. */
async function kill(n: RealNode): Promise<void> {
  n.host.stop();
  n.clock.cancelAll();
  n.transport.close();
  n.server.forceShutdown();
  await n.storage.close();
  nodes.delete(n.id);
}

afterEach(async () => {
  for (const n of [...nodes.values()]) await kill(n);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const leader = (): RealNode | undefined => [...nodes.values()].find((n) => n.host.replica(GROUP)?.isLeader === true);

function propose(value: string): Promise<ProposeOutcome> {
  const l = leader();
  if (l === undefined) return Promise.resolve({ ok: false, code: 'NOT_LEADER', leader: 0 as NodeId });
  return new Promise((resolve) => l.host.replica(GROUP)!.propose(new TextEncoder().encode(value), resolve));
}

async function proposeUntilOk(value: string): Promise<number> {
  for (;;) {
    const o = await propose(value);
    if (o.ok) return o.index;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('real ports under the node host', () => {
  it('elects, replicates, and recovers a restarted follower from LevelDB', async () => {
    // Ports first (every node must know every address before any starts).
    const reserved = await Promise.all(VOTERS.map(() => startGrpcServer('127.0.0.1:0', [])));
    const ports = reserved.map((r) => {
      if (!r.ok) throw new Error(r.error);
      r.server.forceShutdown();
      return r.port;
    });
    const peers = new Map(VOTERS.map((id, i) => [id, `127.0.0.1:${ports[i]}`]));
    const dirOf = new Map(VOTERS.map((id) => {
      const d = mkdtempSync(join(tmpdir(), `keel-node-${id}-`));
      dirs.push(d);
      return [id, d];
    }));
    for (const [i, id] of VOTERS.entries()) await startReal(id, dirOf.get(id)!, ports[i]!, peers);

    await waitFor(() => leader() !== undefined, 'a leader', 20_000);
    const indexes: number[] = [];
    for (let i = 0; i < 20; i++) indexes.push(await proposeUntilOk(`v${i}`));
    const last = Math.max(...indexes);
    await waitFor(() => [...nodes.values()].every((n) => n.ledger.applied.size === 20), 'every node to apply 20 values');

    const follower = [...nodes.values()].find((n) => n !== leader())!;
    await kill(follower);
    for (let i = 20; i < 30; i++) indexes.push(await proposeUntilOk(`v${i}`)); // two of three still commit
    const back = await startReal(follower.id, dirOf.get(follower.id)!, follower.port, peers);
    await waitFor(() => back.ledger.applied.size === 30, 'the restarted follower to catch up', 20_000);
    expect([...back.ledger.applied.values()].sort()).toEqual(Array.from({ length: 30 }, (_, i) => `v${i}`).sort());
    expect(back.host.replica(GROUP)!.appliedIndex).toBeGreaterThan(last);
    for (const n of nodes.values()) expect(n.fatal).toEqual([]);
    const stats = [...nodes.values()].map((n) => n.transport.stats);
    expect(stats.every((s) => s.decodeErrors === 0 && s.framesReceived > 0)).toBe(true);
  });
});
