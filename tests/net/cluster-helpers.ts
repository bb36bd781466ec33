// Shared by the real-cluster tests: three nodes started with startNode in this process, on 127.0.0.1
// ports reserved up front (every node must know every address before any starts), with data in temp
// directories; a generic gRPC client of keel.v1.Keel built from the schema, and promisified calls that
// return the status, the keel-* trailers and the message.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { KeelNodeConfig } from '../../broker/keel-node.ts';
import { encodeRecord, type WireRecord } from '../../net/client-convert.ts';
import { KEEL_CODE_HEADER, KEEL_LEADER_ADDRESS_HEADER, KEEL_LEADER_HEADER, KEEL_SERVICE_DEFINITION } from '../../net/client-schema.ts';
import { HEALTH_SERVICE_DEFINITION } from '../../net/health-service.ts';
import { startNode, type NodeProcessOptions, type RunningNode } from '../../net/node-process.ts';
import { nodeId, type NodeId } from '../../raft/types.ts';

export const TICK_MS = 20;

/** Short leases and heartbeats: a cluster is ready within a second or two. */
export function fastConfig(c: KeelNodeConfig): KeelNodeConfig {
  return { ...c, controller: { ...c.controller, brokerHeartbeatMs: 100, brokerLeaseMs: 2_000 } };
}

export async function reservePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export interface TestCluster {
  readonly ids: readonly NodeId[];
  readonly addresses: ReadonlyMap<NodeId, string>;
  readonly dirs: ReadonlyMap<NodeId, string>;
  readonly nodes: Map<NodeId, RunningNode>;
  /** Starts (or restarts) one node on its directory and port. */
  start(id: NodeId): Promise<RunningNode>;
  stopAll(): Promise<void>;
  /** Stops everything and deletes the data directories. */
  destroy(): Promise<void>;
}

export async function createCluster(size = 3, extra: Partial<NodeProcessOptions> = {}): Promise<TestCluster> {
  const ids = Array.from({ length: size }, (_, i) => nodeId(i + 1));
  const ports = await reservePorts(size);
  const addresses = new Map(ids.map((id, i) => [id, `127.0.0.1:${ports[i]}`]));
  const dirs = new Map(ids.map((id) => [id, mkdtempSync(join(tmpdir(), `keel-net-${id}-`))]));
  const nodes = new Map<NodeId, RunningNode>();
  const start = async (id: NodeId): Promise<RunningNode> => {
    const address = addresses.get(id)!;
    const r = await startNode({
      id, listen: address, advertise: address, dataDir: dirs.get(id)!, peers: addresses,
      logLevel: 'silent', logDestination: 'stdout', tickMs: TICK_MS, seed: id * 1_000,
      shutdownTimeoutMs: 1_500, serverGraceMs: 200, configure: fastConfig, ...extra,
    });
    if (!r.ok) throw new Error(r.error);
    nodes.set(id, r);
    return r;
  };
  const stopAll = async (): Promise<void> => {
    const running = [...nodes.values()];
    nodes.clear();
    await Promise.all(running.map((n) => n.stop()));
  };
  return {
    ids, addresses, dirs, nodes, start, stopAll,
    destroy: async () => {
      await stopAll();
      for (const d of dirs.values()) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** Waits until every node answers, has a controller leader and sees `brokers` unfenced brokers. */
export async function waitUntilReady(client: { clusterStatus(address: string): Promise<{ ready: boolean; readyReason: string; brokers: readonly { fenced: boolean }[] }> }, addresses: Iterable<string>, brokers = 3): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const statuses = await Promise.all([...addresses].map((a) => client.clusterStatus(a).catch(() => null)));
    if (statuses.every((s) => s !== null && s.ready && s.brokers.length === brokers && s.brokers.every((b) => !b.fenced))) return;
    if (Date.now() > deadline) throw new Error(`cluster not ready: ${JSON.stringify(statuses.map((s) => s?.readyReason ?? 'no answer'))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- clients -------------------------------------------------------------------------------------

const KeelClientCtor = grpc.makeGenericClientConstructor(KEEL_SERVICE_DEFINITION, 'Keel');
const HealthClientCtor = grpc.makeGenericClientConstructor(HEALTH_SERVICE_DEFINITION, 'Health');

export type GenericClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

const clients: grpc.Client[] = [];

export function keelClient(address: string): GenericClient {
  const c = new KeelClientCtor(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 << 20, 'grpc.max_send_message_length': 64 << 20 }) as unknown as GenericClient;
  clients.push(c);
  return c;
}

export function healthClient(address: string): GenericClient {
  const c = new HealthClientCtor(address, grpc.credentials.createInsecure()) as unknown as GenericClient;
  clients.push(c);
  return c;
}

export function closeClients(): void {
  for (const c of clients.splice(0)) c.close();
}

export type CallResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly status: grpc.status; readonly details: string; readonly keelCode?: string; readonly leader?: number; readonly leaderAddress?: string };

export function failure(err: grpc.ServiceError): CallResult<never> {
  const md = err.metadata ?? new grpc.Metadata();
  const first = (k: string): string | undefined => {
    const v = md.get(k)[0];
    return typeof v === 'string' ? v : undefined;
  };
  const leader = first(KEEL_LEADER_HEADER);
  const keelCode = first(KEEL_CODE_HEADER);
  const leaderAddress = first(KEEL_LEADER_ADDRESS_HEADER);
  return {
    ok: false, status: err.code, details: err.details,
    ...(keelCode !== undefined ? { keelCode } : {}),
    ...(leader !== undefined ? { leader: Number(leader) } : {}),
    ...(leaderAddress !== undefined ? { leaderAddress } : {}),
  };
}

/** A unary call with a deadline; never rejects. */
export function call<T = Record<string, unknown>>(client: GenericClient, method: string, req: unknown, deadlineMs = 10_000): Promise<CallResult<T>> {
  return new Promise((resolve) => {
    const fn = client[method];
    if (fn === undefined) throw new Error(`no method ${method}`);
    fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, value: T) => {
      resolve(err === null ? { ok: true, value } : failure(err));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface ClusterStatus {
  nodeId: number;
  controllerLeader: number;
  metadataVersion: number;
  brokers: { id: number; address: string; epoch: number; fenced: boolean; shuttingDown: boolean; decommissioned: boolean }[];
  ready: boolean;
  readyReason: string;
  topics: string[];
}

/** Every node ready and every broker registered and unfenced, as each node sees it. */
export async function waitReady(cluster: TestCluster, timeoutMs = 20_000): Promise<void> {
  const cs = [...cluster.addresses.values()].map((a) => keelClient(a));
  await waitUntil(async () => {
    for (const c of cs) {
      const r = await call<ClusterStatus>(c, 'ClusterStatus', {}, 2_000);
      if (!r.ok || !r.value.ready || r.value.brokers.length !== cluster.ids.length || r.value.brokers.some((b) => b.fenced)) return false;
    }
    return true;
  }, 'every node to be ready', timeoutMs);
}

/** Every node's metadata image has the topic, and every partition reported a leader. */
export async function waitTopicServed(addresses: ReadonlyMap<NodeId, string>, topic: string, timeoutMs = 20_000): Promise<void> {
  await waitUntil(async () => {
    for (const address of addresses.values()) {
      const d = await call<{ topic: { partitions: { leader: number }[] } }>(clientFor(address), 'DescribeTopic', { name: topic, consistency: 1 }, 2_000);
      if (!d.ok || !d.value.topic.partitions.every((p) => p.leader !== 0)) return false;
    }
    return true;
  }, `every node to know topic ${topic} and its leaders`, timeoutMs);
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A record as the wire carries it (net/client-convert.ts encodes it the way the server does). */
export function record(key: string | null, value: string | null, headers: Record<string, string> = {}): WireRecord {
  return encodeRecord({
    key: key === null ? null : enc(key),
    value: value === null ? null : enc(value),
    headers: Object.entries(headers).map(([k, v]) => ({ key: k, value: enc(v) })),
    timestamp: -1,
  });
}

/**
 * Sends a request to `first`, following NOT_LEADER / NOT_CONTROLLER redirects (keel-leader-address) and
 * retrying UNAVAILABLE without a hint (an election in progress) until it succeeds or time runs out.
 */
export async function callLeader<T>(addresses: ReadonlyMap<NodeId, string>, method: string, req: unknown, first?: string, timeoutMs = 15_000): Promise<{ result: CallResult<T>; address: string }> {
  const all = [...addresses.values()];
  let address = first ?? all[0]!;
  const deadline = Date.now() + timeoutMs;
  let k = 0;
  for (;;) {
    const result = await call<T>(clientFor(address), method, req, 5_000);
    if (result.ok || result.status !== grpc.status.UNAVAILABLE || Date.now() > deadline) return { result, address };
    address = result.leaderAddress ?? all[++k % all.length]!;
    if (result.leaderAddress === undefined) await sleep(50);
  }
}

const byAddress = new Map<string, GenericClient>();
export function clientFor(address: string): GenericClient {
  let c = byAddress.get(address);
  if (c === undefined) {
    c = keelClient(address);
    byAddress.set(address, c);
  }
  return c;
}

export function forgetClients(): void {
  byAddress.clear();
  closeClients();
}
