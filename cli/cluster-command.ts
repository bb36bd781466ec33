// `keel cluster up` (N node processes on 127.0.0.1, logs streamed, a table once ready, clean stop on
// Ctrl-C; data survives restarts) and `keel cluster status`.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_BASE_PORT, DEFAULT_NODES } from './bootstrap.ts';
import { clientOptions, positiveInt, withClient, type ClientOptions } from './client-command.ts';
import { fail, printTable } from './output.ts';
import { logLinePrinter, tailFile } from './log-lines.ts';
import { ProcessCluster } from './process-cluster.ts';

/** How long `cluster up` waits for every node to be ready. */
const READY_TIMEOUT_MS = 60_000;
/** How long a node gets to stop cleanly after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 15_000;

async function clusterUp(o: { nodes: string; dataDir: string; basePort: string; json?: boolean }): Promise<void> {
  const count = positiveInt(o.nodes, 'nodes', DEFAULT_NODES);
  if (count > 9) fail('--nodes must be at most 9', 2);
  const basePort = positiveInt(o.basePort, 'base-port', DEFAULT_BASE_PORT);
  if (basePort + count - 1 > 65535) fail('--base-port too high for that many nodes', 2);
  const pretty = process.stdout.isTTY === true && o.json !== true;
  let stopping = false;
  const printers = new Map<number, (line: string) => void>();
  const printer = (id: number): ((line: string) => void) => {
    let p = printers.get(id);
    if (p === undefined) {
      // With --json, standard output carries the node list and nothing else: logs go to standard error.
      p = logLinePrinter(`node-${id}`, pretty, o.json === true ? process.stderr : process.stdout);
      printers.set(id, p);
    }
    return p;
  };
  const cluster = new ProcessCluster({
    nodes: count,
    basePort,
    dataDir: resolve(o.dataDir),
    onOutput: (id, line) => printer(id)(line),
    onExit: (id, how) => { if (!stopping) console.error(`[node-${id}] exited (${how}); see ${cluster.nodes[id - 1]?.log}`); },
  });
  cluster.start();
  // Each node writes JSON logs to its file; follow the files and show each line (prettified on a terminal).
  for (const n of cluster.nodes) tailFile(n.log, printer(n.id), () => stopping);
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    console.error('\nstopping the cluster (controlled shutdown)...');
    void cluster.stop(STOP_GRACE_MS).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const started = Date.now();
  try {
    const statuses = await cluster.waitUntilReady(READY_TIMEOUT_MS);
    // Ctrl-C during start-up: the nodes are being stopped, so the cluster is not "ready" for anyone.
    if (stopping) return;
    const leader = [...statuses.values()][0]?.controllerLeader ?? 0;
    const bootstrap = cluster.bootstrap.join(',');
    if (o.json) {
      console.log(JSON.stringify({ nodes: cluster.nodes.map((n) => ({ id: n.id, address: n.address, pid: cluster.pid(n.id) ?? null, dataDir: n.dir, log: n.log, controllerLeader: n.id === leader })), bootstrap }));
      return;
    }
    console.log(`\nKeel cluster ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${count} node${count === 1 ? '' : 's'} on 127.0.0.1\n`);
    printTable(['node', 'address', 'role', 'data dir', 'log'], cluster.nodes.map((n) => [String(n.id), n.address, n.id === leader ? 'controller leader' : 'controller voter', n.dir, n.log]));
    console.log(`\nbootstrap: ${bootstrap}${basePort === DEFAULT_BASE_PORT && count === DEFAULT_NODES ? ' (the default: no --bootstrap needed)' : ` (export KEEL_BOOTSTRAP=${bootstrap})`}`);
    console.log('try:  npx keel topic create demo --partitions 3 --replicas 3');
    console.log('      seq 1 1000 | npx keel produce demo');
    console.log('      npx keel consume demo --from-beginning --max 1000');
    console.log('Ctrl-C stops every node cleanly; data stays in the data dir for the next start.\n');
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    stopping = true;
    await cluster.stop(STOP_GRACE_MS);
    process.exit(1);
  }
}

export function addClusterCommands(program: Command): void {
  const cluster = program.command('cluster').description('run a local cluster, or look at one');
  cluster.command('up')
    .description('start N nodes on 127.0.0.1, wait until ready, stream their logs; Ctrl-C stops them all')
    .option('--nodes <n>', 'number of nodes', String(DEFAULT_NODES))
    .option('--data-dir <dir>', 'where each node keeps its data (kept across restarts)', 'data')
    .option('--base-port <port>', 'port of node 1; node i listens on base + i - 1', String(DEFAULT_BASE_PORT))
    .option('--json', 'print the node list as JSON once ready')
    .action(clusterUp);
  clientOptions(cluster.command('status').description('brokers, controller leader and metadata version'))
    .action((o: ClientOptions) => withClient(o, async (c) => {
      const s = await c.clusterStatus();
      if (o.json) return console.log(JSON.stringify(s));
      console.log(`controller leader: node ${s.controllerLeader === 0 ? '(none)' : s.controllerLeader}, metadata version ${s.metadataVersion}, answered by node ${s.nodeId}${s.ready ? '' : ` (not ready: ${s.readyReason})`}`);
      printTable(['broker', 'address', 'state', 'epoch'], s.brokers.map((b) => [String(b.id), b.address, b.decommissioned ? 'decommissioned' : b.shuttingDown ? 'shutting down' : b.fenced ? 'fenced' : 'active', String(b.epoch)]));
      console.log(`topics: ${s.topics.length === 0 ? '(none)' : s.topics.join(', ')}`);
    }));
}
