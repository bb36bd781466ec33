// startNode's lifecycle on one node: option checks, ports and data directories already taken, a
// one-node cluster that becomes ready and reports it through the health service, a storage failure
// that ends the process (exit injected), and a stopped node that lets its process exit by itself.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Storage, StorageError } from '../../broker/ports.ts';
import { SERVING_STATUS } from '../../net/health-service.ts';
import { KeelClient } from '../../net/client/keel-client.ts';
import { HopTrace } from '../../net/hop-trace.ts';
import { LevelDbStorage } from '../../net/leveldb-storage.ts';
import { parseHostPort, startNode, type NodeProcessOptions, type NodeStorage, type RunningNode } from '../../net/node-process.ts';
import { nodeId } from '../../raft/types.ts';
import { call, clientFor, fastConfig, forgetClients, healthClient, reservePorts, waitUntil } from './cluster-helpers.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
const running: RunningNode[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'keel-node-process-'));
  dirs.push(d);
  return d;
}

afterEach(async () => {
  forgetClients();
  for (const n of running.splice(0)) await n.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function single(port: number, dir: string, extra: Partial<NodeProcessOptions> = {}): Promise<ReturnType<typeof startNode>> {
  const address = `127.0.0.1:${port}`;
  const r = await startNode({
    id: nodeId(1), listen: address, advertise: address, dataDir: dir, peers: new Map([[nodeId(1), address]]),
    logLevel: 'silent', logDestination: 'stdout', tickMs: 20, shutdownTimeoutMs: 1_000, serverGraceMs: 100, configure: fastConfig, ...extra,
  });
  if (r.ok) running.push(r);
  return r;
}

describe('startNode', () => {
  it('refuses invalid options with a message', async () => {
    const base: NodeProcessOptions = { id: nodeId(1), listen: '127.0.0.1:0', advertise: '127.0.0.1:7000', dataDir: tempDir(), peers: new Map([[nodeId(1), '127.0.0.1:7000']]) };
    const cases: [Partial<NodeProcessOptions>, RegExp][] = [
      [{ id: nodeId(0) }, /node id/],
      [{ listen: 'localhost' }, /listen/],
      [{ advertise: '127.0.0.1:0' }, /advertised/],
      [{ peers: new Map([[nodeId(2), '127.0.0.1:7001']]) }, /include this node/],
      [{ peers: new Map([[nodeId(1), '127.0.0.1:7000'], [nodeId(2), 'nowhere']]) }, /peer 2/],
      [{ tickMs: 0 }, /tickMs/],
      [{ seed: -1 }, /seed/],
      [{ dataDir: '' }, /data directory/],
    ];
    for (const [o, message] of cases) {
      const r = await startNode({ ...base, ...o });
      expect(r.ok ? 'started' : r.error).toMatch(message);
    }
    expect(parseHostPort('[::1]:80')).toEqual({ host: '[::1]', port: 80 });
    expect(parseHostPort('host:65536')).toBeNull();
  });

  it('refuses a port or a data directory another node holds', async () => {
    const blocker = await new Promise<Server>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
    const taken = (blocker.address() as AddressInfo).port;
    try {
      const r = await single(taken, tempDir());
      expect(r.ok ? 'started' : r.error).toMatch(/cannot listen/);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    const [a, b] = await reservePorts(2);
    const dir = tempDir();
    const logFile = join(dir, 'node.log');
    const first = await single(a!, dir, { logLevel: 'info', logDestination: logFile });
    expect(first.ok).toBe(true);
    const second = await single(b!, dir, { logLevel: 'info', logDestination: logFile });
    expect(second.ok ? 'started' : second.error).toMatch(/cannot open storage/);
    // The node that could not take the directory wrote nothing into the running node's log.
    expect(existsSync(logFile) ? readFileSync(logFile, 'utf8') : '').not.toMatch(/cannot open storage/);
  });

  it('a one-node cluster becomes ready, serves health, and stops cleanly', async () => {
    const [port] = await reservePorts(1);
    const dir = tempDir();
    const r = await single(port!, dir, { seed: 42 });
    if (!r.ok) throw new Error(r.error);
    expect(r.seed).toBe(42);
    await waitUntil(() => r.node.readiness().ready, 'readiness', 10_000);
    const h = healthClient(`127.0.0.1:${port}`);
    expect(await call(h, 'Check', { service: 'keel.v1.Keel' })).toEqual({ ok: true, value: { status: SERVING_STATUS.SERVING } });
    r.health.setShuttingDown();
    expect(await call(h, 'Check', { service: '' })).toEqual({ ok: true, value: { status: SERVING_STATUS.NOT_SERVING } });
    await r.stop();
    await r.stop(); // idempotent
    // The directory's lock is released: the node starts again on it.
    const again = await single(port!, dir);
    expect(again.ok).toBe(true);
    if (again.ok) expect(again.node.starts).toBe(2);
  });

  it('with a hop trace, marks a produce request, its turns, its write and its answer while recording', async () => {
    const [port] = await reservePorts(1);
    const hopTrace = new HopTrace();
    const r = await single(port!, tempDir(), { hopTrace });
    if (!r.ok) throw new Error(r.error);
    await waitUntil(() => r.node.readiness().ready, 'readiness', 10_000);
    const client = new KeelClient({ bootstrap: [`127.0.0.1:${port}`], requestTimeoutMs: 10_000 });
    try {
      await client.createTopic('traced', { partitions: 1, replicationFactor: 1 });
      await waitUntil(async () => (await client.describeTopic('traced')).partitions[0]?.leaderAddress !== '', 'a leader', 10_000);
      await client.produce('traced', [{ value: new Uint8Array([1]) }]);
      expect(hopTrace.stop()).toEqual([]); // not recording yet
      hopTrace.start();
      await client.produce('traced', [{ value: new Uint8Array([2]) }]);
      const labels = hopTrace.stop().map((m) => m.label);
      const from = labels.indexOf('request');
      expect(from).toBeGreaterThanOrEqual(0);
      expect(labels.slice(from)).toEqual(expect.arrayContaining(['request', 'turn', 'write', 'written', 'answer']));
      expect(labels.indexOf('answer')).toBeGreaterThan(labels.indexOf('written', from));
    } finally {
      client.close();
    }
  });

  it('calls still open when the node stops end at once with BROKER_NOT_AVAILABLE', async () => {
    const [port] = await reservePorts(1);
    const r = await single(port!, tempDir());
    if (!r.ok) throw new Error(r.error);
    await waitUntil(() => r.node.readiness().ready, 'readiness', 10_000);
    const address = `127.0.0.1:${port}`;
    const c = clientFor(address);
    expect((await call(c, 'CreateTopic', { name: 't', partitions: 1, replicationFactor: 1 })).ok).toBe(true);
    await waitUntil(async () => (await call(c, 'Produce', { topic: 't', records: [{ valueNull: true, timestamp: -1 }] })).ok, 'a partition leader', 10_000);
    const poll = call(c, 'Fetch', { topic: 't', partition: 0, offset: 1, maxWaitMs: 20_000 }, 30_000);
    const sub = (c['Subscribe'] as (q: unknown, md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientReadableStream<{ error?: { code: string } }>).call(c, { topic: 't', partition: 0, offset: 1 }, new grpc.Metadata(), {});
    const subEnd = new Promise<string | undefined>((resolve) => {
      sub.on('data', (m: { error?: { code: string } | null }) => {
        if (m.error) resolve(m.error.code);
      });
      sub.on('error', () => resolve('stream error'));
    });
    await waitUntil(() => r.client.openCalls === 2, 'both calls to be open', 5_000);
    const stopped = Date.now();
    await r.stop();
    const result = await poll;
    expect(result.ok ? 'ok' : [result.status, result.keelCode]).toEqual([grpc.status.UNAVAILABLE, 'BROKER_NOT_AVAILABLE']);
    expect(await subEnd).toBe('BROKER_NOT_AVAILABLE');
    expect(Date.now() - stopped).toBeLessThan(5_000);
    expect(r.client.openCalls).toBe(0);
  });

  it('a failed storage write ends the process with exit code 1', async () => {
    const [port] = await reservePorts(1);
    let failing = false;
    const exits: number[] = [];
    const openStorage = async (dir: string): Promise<{ ok: true; storage: NodeStorage } | { ok: false; error: StorageError }> => {
      const opened = await LevelDbStorage.open(dir);
      if (!opened.ok) return opened;
      const db = opened.storage;
      const storage: Storage & { close(): Promise<void> } = {
        load: (done) => db.load(done),
        write: (batch, done) => (failing ? process.nextTick(() => done({ code: 'FSYNC_FAILED', message: 'injected' })) : db.write(batch, done)),
        close: () => db.close(),
      };
      return { ok: true, storage };
    };
    const r = await single(port!, tempDir(), { openStorage, exit: (code) => exits.push(code) });
    if (!r.ok) throw new Error(r.error);
    await waitUntil(() => r.node.readiness().ready, 'readiness', 10_000);
    failing = true;
    r.node.createTopic({ requestId: 'needs-a-write', name: 't', partitions: 1, replicationFactor: 1 }, () => {});
    await waitUntil(() => exits.length > 0, 'the fatal exit', 10_000);
    expect(exits).toEqual([1]);
    expect(r.node.host.driver.isStopped).toBe(true);
  });

  it('after stop() the process exits by itself', async () => {
    const [port] = await reservePorts(1);
    const run = spawnSync(process.execPath, [join(root, 'bin', 'run-ts.js'), join(root, 'tests', 'net', 'node-process-child.ts'), tempDir(), String(port)], { cwd: root, encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n').filter((l) => l !== '')).toEqual(['ready', 'stopped']);
    expect(run.status).toBe(0);
  });
});
