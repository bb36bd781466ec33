// One real Keel node (DESIGN.md §7): the KeelNode on real ports — LevelDB under <dataDir>/db, the
// process clocks, pino logs, a seeded Rng, the gRPC peer transport — and ONE gRPC server hosting the
// peer stream, the client API and the health service. `keel node start` and `keel cluster up` run this;
// tests run three in one process.
//
// Failure: a storage write that fails means the node can no longer trust its disk, so the process logs
// and exits non-zero (a supervisor restarts it from disk). stop() is the orderly path: controlled
// shutdown (leaderships move away, bounded by shutdownTimeoutMs), then every part closes, so nothing
// keeps the process alive afterwards.
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { defaultNodeConfig, KeelNode, type KeelNodeConfig } from '../broker/keel-node.ts';
import type { Frame, Ports, Storage, StorageError } from '../broker/ports.ts';
import type { NodeId } from '../raft/types.ts';
import { ClientService, type ClientServiceOptions } from './client-service.ts';
import { startGrpcServer, stopGrpcServer } from './grpc-server.ts';
import { HealthService } from './health-service.ts';
import { traceFrames, tracePorts, traceProduce, type HopTrace } from './hop-trace.ts';
import { LevelDbStorage } from './leveldb-storage.ts';
import { createNodeLogger, type LogLevel } from './logger.ts';
import { PeerServer } from './peer-service.ts';
import { PeerTransport } from './peer-transport.ts';
import { RealClock } from './real-clock.ts';
import { randomSeed, SeededRng } from './seeded-rng.ts';
import { SendFlush } from './send-flush.ts';

/** The storage a node runs on: the Storage port plus closing (LevelDbStorage). */
export type NodeStorage = Storage & { close(): Promise<void> };

export interface NodeProcessOptions {
  readonly id: NodeId;
  /** host:port the gRPC server binds (port 0: any free port, see `port` of the result). */
  readonly listen: string;
  /** host:port peers and clients are told to use for this node. */
  readonly advertise: string;
  readonly dataDir: string;
  /** Every broker of the cluster, this one included, with its advertised address. */
  readonly peers: ReadonlyMap<NodeId, string>;
  readonly logLevel?: LogLevel;
  /** 'pretty', 'stdout' or a file path (net/logger.ts). */
  readonly logDestination?: string;
  readonly tickMs?: number;
  /** Seed of the Rng (Raft's election jitter); random if absent. */
  readonly seed?: number;
  /** stop(): how long the controlled shutdown may take before the node stops anyway. */
  readonly shutdownTimeoutMs?: number;
  /** stop(): how long running calls get to finish before the server cuts them. */
  readonly serverGraceMs?: number;
  /** Adjusts the node's configuration (tests: shorter leases and timeouts). */
  readonly configure?: (config: KeelNodeConfig) => KeelNodeConfig;
  readonly client?: ClientServiceOptions;
  /** How a fatal storage failure ends the process (default process.exit). Tests inject a recorder. */
  readonly exit?: (code: number) => void;
  /** Marks every hop of a request on this trace (net/hop-trace.ts; bench/hop-trace.ts). */
  readonly hopTrace?: HopTrace;
  /** Opens the storage (default LevelDbStorage.open). Tests inject failing disks. */
  readonly openStorage?: (dir: string) => Promise<{ ok: true; storage: NodeStorage } | { ok: false; error: StorageError }>;
}

export interface RunningNode {
  readonly ok: true;
  readonly node: KeelNode;
  /** The port the server bound (the listen port, or the one picked for port 0). */
  readonly port: number;
  /** The seed the Rng was started with (log it to repeat a run). */
  readonly seed: number;
  readonly health: HealthService;
  readonly client: ClientService;
  /** Controlled shutdown, then everything closed. Idempotent. */
  stop(): Promise<void>;
}

export type StartNodeResult = RunningNode | { readonly ok: false; readonly error: string };

export const NODE_PROCESS_DEFAULTS = {
  shutdownTimeoutMs: 5_000,
  serverGraceMs: 1_000,
  peersMax: 1_024,
} as const;

/** host:port (IPv6 hosts in brackets); null if malformed. */
export function parseHostPort(s: string): { host: string; port: number } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})$/.exec(s);
  if (m === null) return null;
  const port = Number(m[2]);
  return port <= 65_535 ? { host: m[1] as string, port } : null;
}

function validate(o: NodeProcessOptions): string | null {
  if (!Number.isSafeInteger(o.id) || o.id < 1) return `node id must be a positive integer, got ${String(o.id)}`;
  if (parseHostPort(o.listen) === null) return `listen address must be host:port, got "${o.listen}"`;
  const adv = parseHostPort(o.advertise);
  if (adv === null || adv.port === 0) return `advertised address must be host:port with a port other than 0, got "${o.advertise}"`;
  if (typeof o.dataDir !== 'string' || o.dataDir === '') return 'a data directory is required';
  if (o.peers.size === 0 || o.peers.size > NODE_PROCESS_DEFAULTS.peersMax) return `peers must list 1 to ${NODE_PROCESS_DEFAULTS.peersMax} brokers`;
  if (!o.peers.has(o.id)) return `peers must include this node (${o.id})`;
  for (const [id, address] of o.peers) {
    if (!Number.isSafeInteger(id) || id < 1) return `peer ids must be positive integers, got ${String(id)}`;
    if (parseHostPort(address) === null) return `peer ${id}: address must be host:port, got "${address}"`;
  }
  if (o.tickMs !== undefined && (!Number.isSafeInteger(o.tickMs) || o.tickMs < 1 || o.tickMs > 10_000)) return `tickMs must be an integer from 1 to 10000, got ${o.tickMs}`;
  if (o.seed !== undefined && (!Number.isSafeInteger(o.seed) || o.seed < 0)) return `seed must be a non-negative safe integer, got ${o.seed}`;
  return null;
}

/** Starts a node; resolves once its disk is loaded and its server listens. */
export async function startNode(options: NodeProcessOptions): Promise<StartNodeResult> {
  const invalid = validate(options);
  if (invalid !== null) return { ok: false, error: invalid };
  const { id } = options;
  const dbDir = join(options.dataDir, 'db');
  // The storage first: its LOCK says whether this node owns the data directory, and only the owner may
  // write the log file beside it (a second node started on the same directory must not append to the
  // running node's log). A failure is the caller's to print.
  // A write starts at once unless peer frames written in the same pass wait to leave (net/send-flush.ts).
  const sendFlush = new SendFlush();
  const opened = options.openStorage !== undefined ? await options.openStorage(dbDir) : await LevelDbStorage.open(dbDir, { deferWhile: () => sendFlush.pending });
  if (!opened.ok) return { ok: false, error: `cannot open storage in ${dbDir}: ${opened.error.message}` };
  const logs = createNodeLogger({ nodeId: id, level: options.logLevel ?? 'info', ...(options.logDestination !== undefined ? { destination: options.logDestination } : {}) });
  const log = logs.logger;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const seed = options.seed ?? randomSeed();
  const storage = opened.storage;
  // A turn runs at once while the node's disk is idle, and gathers the pass's work while a write is in
  // flight (net/real-clock.ts). Bound to the driver once the node exists.
  let diskBusy = (): boolean => false;
  const clock = new RealClock({ unrefTimers: true, isBusy: () => diskBusy() });
  const peers = new Map([...options.peers].filter(([p]) => p !== id));
  const transport = new PeerTransport({ nodeId: id, peers, logger: log, sendFlush });

  // The disk's first answer tells startNode whether the node came up: a failed load never calls onStarted.
  let loadFailed: (message: string) => void = () => {};
  const untraced: Ports = {
    clock,
    rng: new SeededRng(seed),
    transport,
    logger: log,
    storage: {
      load: (done) => storage.load((records, err) => {
        if (err !== null) loadFailed(`${err.code}: ${err.message}`);
        done(records, err);
      }),
      write: (batch, done) => storage.write(batch, done),
    },
  };
  const trace = options.hopTrace;
  const ports = trace === undefined ? untraced : tracePorts(untraced, trace);
  const base = defaultNodeConfig(id, [...options.peers.keys()].sort((a, b) => a - b), options.advertise);
  const tuned = options.tickMs === undefined ? base : { ...base, tickMs: options.tickMs };
  const config = options.configure?.(tuned) ?? tuned;
  const onFatal = (err: StorageError): void => {
    log.error('storage failed: the node cannot trust its disk and exits', { code: err.code, message: err.message });
    logs.flush();
    exit(1);
  };
  const node = new KeelNode(config, ports, {}, onFatal);
  diskBusy = () => node.host.driver.writeInFlight;
  const onFrame = (frame: Frame): void => node.receive(frame);
  transport.setFrameHandler(trace === undefined ? onFrame : traceFrames(trace, onFrame));
  if (trace !== undefined) traceProduce(node, trace);
  const client = new ClientService(node, { logger: log, ...options.client });
  const health = new HealthService(() => node.readiness().ready);

  const closeParts = async (server: grpc.Server | null): Promise<void> => {
    client.close();
    health.close();
    node.stop();
    clock.cancelAll();
    transport.close();
    if (server !== null) await stopGrpcServer(server, options.serverGraceMs ?? NODE_PROCESS_DEFAULTS.serverGraceMs);
    await storage.close();
  };

  const started = await startGrpcServer(options.listen, [new PeerServer(transport), client, health]);
  if (!started.ok) {
    log.error('cannot start the gRPC server', { listen: options.listen, error: started.error });
    await closeParts(null);
    logs.flush();
    return { ok: false, error: started.error };
  }
  const server = started.server;

  const loaded = await new Promise<string | null>((resolve) => {
    loadFailed = resolve;
    node.start(() => resolve(null));
  });
  if (loaded !== null) {
    await closeParts(server);
    logs.flush();
    return { ok: false, error: `cannot load storage in ${dbDir}: ${loaded}` };
  }
  log.info('node started', { listen: options.listen, port: started.port, advertise: options.advertise, seed, starts: node.starts, incarnation: node.incarnation, brokers: config.brokers });

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      health.setShuttingDown();
      const shutdown = await controlledShutdown(node, options.shutdownTimeoutMs ?? NODE_PROCESS_DEFAULTS.shutdownTimeoutMs);
      log.info('controlled shutdown', shutdown);
      await closeParts(server);
      log.info('node stopped');
      logs.flush();
    })();
    return stopping;
  };
  return { ok: true, node, port: started.port, seed, health, client, stop };
}

/** node.shutdown, bounded: without a controller quorum it would wait for its own timeouts. */
function controlledShutdown(node: KeelNode, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ outcome: 'timed out', timeoutMs }), timeoutMs);
    node.shutdown((r) => {
      clearTimeout(timer);
      resolve(r.ok ? { outcome: 'done', stillLeading: r.value.stillLeading } : { outcome: 'refused', code: r.error.code, message: r.error.message });
    });
  });
}
