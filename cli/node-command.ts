// `keel node start --id N --data-dir DIR --listen HOST:PORT --peers ID=HOST:PORT,... [--advertise HOST:PORT]`:
// one node process. SIGTERM or SIGINT triggers a controlled shutdown, then the process exits.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_GROUP_COORDINATOR_OPTIONS } from '../broker/group-coordinator.ts';
import type { KeelNodeConfig } from '../broker/keel-node.ts';
import { HOP_TRACE_DIR_ENV, HopTrace } from '../net/hop-trace.ts';
import { startNode } from '../net/node-process.ts';
import type { LogLevel } from '../net/logger.ts';
import type { NodeId } from '../raft/types.ts';
import { parseAddressList } from './bootstrap.ts';
import { fail } from './output.ts';
import { PARENT_PID_ENV } from './process-cluster.ts';

interface NodeStartOptions {
  id: string;
  dataDir: string;
  listen: string;
  peers: string;
  advertise?: string;
  logFile?: string;
  logLevel: string;
  seed?: string;
  offsetsRetentionMinutes?: string;
}

function parsePeers(value: string): Map<NodeId, string> {
  const peers = new Map<NodeId, string>();
  for (const part of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    const id = Number(part.slice(0, eq));
    if (eq <= 0 || !Number.isSafeInteger(id) || id < 1) fail(`--peers: "${part}" is not ID=HOST:PORT`, 2);
    const [address] = parseAddressList(part.slice(eq + 1), '--peers');
    if (peers.has(id as NodeId)) fail(`--peers: node ${id} is listed twice`, 2);
    peers.set(id as NodeId, address as string);
  }
  return peers;
}

async function nodeStart(o: NodeStartOptions): Promise<void> {
  const id = Number(o.id);
  if (!Number.isSafeInteger(id) || id < 1) fail(`--id must be a positive integer, got "${o.id}"`, 2);
  const [listen] = parseAddressList(o.listen, '--listen');
  const peers = parsePeers(o.peers);
  const advertise = o.advertise === undefined ? (peers.get(id as NodeId) ?? listen) : parseAddressList(o.advertise, '--advertise')[0];
  if (!peers.has(id as NodeId)) fail(`--peers must include this node (${id}=${advertise})`, 2);
  const levels = ['trace', 'debug', 'info', 'warn', 'error'];
  if (!levels.includes(o.logLevel)) fail(`--log-level must be one of ${levels.join(', ')}`, 2);
  const seed = o.seed === undefined ? undefined : Number(o.seed);
  if (seed !== undefined && !Number.isSafeInteger(seed)) fail('--seed must be an integer', 2);
  const retentionMinutes = o.offsetsRetentionMinutes === undefined ? undefined : Number(o.offsetsRetentionMinutes);
  if (retentionMinutes !== undefined && !(Number.isSafeInteger(retentionMinutes) && retentionMinutes > 0)) fail('--offsets-retention-minutes must be a positive integer', 2);
  const hopTrace = process.env[HOP_TRACE_DIR_ENV] === undefined ? undefined : new HopTrace();
  const r = await startNode({
    id: id as NodeId,
    listen: listen as string,
    advertise: advertise as string,
    dataDir: o.dataDir,
    peers,
    logLevel: o.logLevel as LogLevel,
    ...(o.logFile !== undefined ? { logDestination: o.logFile } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(hopTrace !== undefined ? { hopTrace } : {}),
    ...(retentionMinutes !== undefined ? { configure: (c: KeelNodeConfig) => ({ ...c, groups: { ...(c.groups ?? DEFAULT_GROUP_COORDINATOR_OPTIONS), offsetsRetentionMs: retentionMinutes * 60_000 } }) } : {}),
  });
  if (!r.ok) fail(r.error, 1);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void r.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  exitWithParent(stop);
  if (hopTrace !== undefined) toggleHopTraceOnSignal(hopTrace, join(process.env[HOP_TRACE_DIR_ENV] as string, `hops-${id}.json`));
}

/** SIGUSR2 starts a recording; the next one ends it and writes its marks to `file` (JSON). */
function toggleHopTraceOnSignal(trace: HopTrace, file: string): void {
  process.on('SIGUSR2', () => {
    if (!trace.isRecording) return trace.start();
    writeFileSync(file, JSON.stringify(trace.stop()));
  });
}

const PARENT_CHECK_MS = 500;

/**
 * A node started by `keel cluster up` stops (cleanly) when that process is gone, even if it died by
 * SIGKILL and could not stop its nodes: an orphan is re-parented, so its parent pid changes.
 */
function exitWithParent(stop: () => void): void {
  const parent = Number(process.env[PARENT_PID_ENV]);
  if (!Number.isSafeInteger(parent) || parent <= 0) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    stop();
  }, PARENT_CHECK_MS);
  timer.unref();
}

export function addNodeCommands(program: Command): void {
  const node = program.command('node').description('run one node');
  node.command('start')
    .description('start a node process (gRPC for peers and clients, LevelDB under --data-dir)')
    .requiredOption('--id <n>', 'this node\'s id (1, 2, ...)')
    .requiredOption('--data-dir <dir>', 'where the node keeps its data')
    .requiredOption('--listen <host:port>', 'address to listen on')
    .requiredOption('--peers <list>', 'every node of the cluster, this one included: ID=HOST:PORT,...')
    .option('--advertise <host:port>', 'address peers and clients are told (default: this node\'s entry in --peers)')
    .option('--log-file <path>', 'write JSON logs to this file (default: standard output, prettified on a terminal)')
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
    .option('--seed <n>', 'seed of the election-jitter randomness (default: random, logged)')
    .option('--offsets-retention-minutes <n>', 'a consumer group without members that has not committed for this long loses its offsets (Kafka\'s offsets.retention.minutes)', '10080')
    .action(nodeStart);
}
