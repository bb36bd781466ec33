// In-process Raft benchmark: a 3-node group, storage in memory, messages delivered by a loop.
// Measures the consensus core alone (no I/O). Prints a table, or JSON lines with --json:
//   {name, entries, seconds, entriesPerSec}
//   commit-seq      one proposal at a time; each waits until the leader has applied it
//   commit-batched  many proposals in flight (the group pipelines and batches them)
import { MemoryStorage, RawNode, nodeId, type Message, type NodeId, type Index } from '../raft/index.ts';
import { SimRng } from '../sim/rng.ts';

interface BenchNode {
  readonly raw: RawNode;
  readonly storage: MemoryStorage;
  applied: number;
}

function makeGroup(size: number): Map<NodeId, BenchNode> {
  const voters = Array.from({ length: size }, (_, k) => nodeId(k + 1));
  const nodes = new Map<NodeId, BenchNode>();
  for (const id of voters) {
    const storage = new MemoryStorage();
    storage.applySnapshot({ meta: { index: 1 as Index, term: 1 as never, confState: { voters, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: new Uint8Array(0) });
    const raw = new RawNode({ id, storage, rng: new SimRng(id, 'bench'), inflightMessagesMax: 4096, entriesPerMessageMax: 4096 });
    nodes.set(id, { raw, storage, applied: 1 });
  }
  return nodes;
}

/** Handles every Ready and delivers every message until the group is quiet. */
function pump(nodes: Map<NodeId, BenchNode>): void {
  let queue: Message[] = [];
  for (;;) {
    let moved = false;
    for (const n of nodes.values()) {
      if (!n.raw.hasReady()) continue;
      moved = true;
      const rd = n.raw.ready();
      if (rd.snapshot !== null) n.storage.applySnapshot(rd.snapshot);
      n.storage.append(rd.entries);
      if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
      for (const m of rd.messages) queue.push(m);
      for (const m of rd.persistedMessages) queue.push(m);
      const last = rd.committedEntries[rd.committedEntries.length - 1];
      if (last !== undefined) n.applied = last.index;
      n.raw.advance();
      if (rd.persistAck !== null) n.raw.onPersisted(rd.persistAck);
    }
    if (queue.length > 0) {
      moved = true;
      const q = queue;
      queue = [];
      for (const m of q) nodes.get(m.to)?.raw.step(m);
    }
    if (!moved) return;
  }
}

function electLeader(nodes: Map<NodeId, BenchNode>): BenchNode {
  const first = nodes.get(nodeId(1)) as BenchNode;
  first.raw.campaign();
  pump(nodes);
  if (first.raw.status().role !== 'leader') throw new Error('bench: no leader');
  return first;
}

interface Result {
  name: string;
  entries: number;
  seconds: number;
  entriesPerSec: number;
}

function commitSeq(entries: number, payload: Uint8Array): Result {
  const nodes = makeGroup(3);
  const leader = electLeader(nodes);
  const start = performance.now();
  for (let k = 0; k < entries; k++) {
    const r = leader.raw.propose(payload);
    if (!r.ok) throw new Error(`propose refused: ${r.code}`);
    pump(nodes);
    if (leader.applied < r.index) throw new Error('entry not applied after pump');
  }
  const seconds = (performance.now() - start) / 1000;
  return { name: 'commit-seq', entries, seconds, entriesPerSec: Math.round(entries / seconds) };
}

function commitBatched(entries: number, inFlight: number, payload: Uint8Array): Result {
  const nodes = makeGroup(3);
  const leader = electLeader(nodes);
  const start = performance.now();
  let proposed = 0;
  let lastIndex = 0;
  while (proposed < entries) {
    const n = Math.min(inFlight, entries - proposed);
    for (let k = 0; k < n; k++) {
      const r = leader.raw.propose(payload);
      if (!r.ok) throw new Error(`propose refused: ${r.code}`);
      lastIndex = r.index;
    }
    proposed += n;
    pump(nodes);
  }
  if (leader.applied < lastIndex) throw new Error('entries not applied');
  const seconds = (performance.now() - start) / 1000;
  return { name: 'commit-batched', entries, seconds, entriesPerSec: Math.round(entries / seconds) };
}

const json = process.argv.includes('--json');
const payload = new Uint8Array(100).fill(7);
// Warm up the JIT so the first measurement is not dominated by compilation.
commitSeq(2_000, payload);
commitBatched(20_000, 1_000, payload);
const results = [commitSeq(50_000, payload), commitBatched(1_000_000, 1_000, payload)];
for (const r of results) {
  if (json) console.log(JSON.stringify(r));
  else console.log(`${r.name.padEnd(16)} ${String(r.entries).padStart(9)} entries  ${r.seconds.toFixed(2).padStart(6)} s  ${r.entriesPerSec.toLocaleString('en-US').padStart(10)} entries/s`);
}
