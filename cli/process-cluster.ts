// A cluster of real node processes on 127.0.0.1 (`keel node start` each), as `keel cluster up`, the
// integration tests and the benchmark run it: start, wait until ready, kill -9 or restart one node, stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KeelClient } from '../net/client/keel-client.ts';
import type { ClusterStatus } from '../net/client/keel-client.ts';

/** Set for the node processes started here: the pid they must not outlive (see `keel node start`). */
export const PARENT_PID_ENV = 'KEEL_PARENT_PID';

const KEEL_BIN = fileURLToPath(new URL('../bin/keel.js', import.meta.url));

/**
 * Node flags of every node process. A node's heap holds its partitions' recent records (up to
 * retention.bytes), so its old generation grows for as long as it takes writes; V8's starts small and
 * is collected every few MB of growth, each a mark-compact of 5-25 ms on the main thread that stalls
 * every request in flight. Starting the old generation at 256 MB, as JVM brokers run with -Xms, leaves
 * growth to the young collections: over `npm run bench` (until its failover kill), 4-8 mark-compacts per
 * node became 1, and in 5 alternating pairs produce-c64 went from 7,801-8,787 rec/s with p99
 * 16.1-28.5 ms to 8,397-9,156 with p99 16.2-17.9 ms (produce-seq 1,019-1,088 to 1,052-1,122), with the
 * same resident memory after 360,000 records (270-290 MB per node). V8 takes the flag only on the
 * command line, not from NODE_OPTIONS or at run time.
 *
 * V8's memory reducer is off: it shrinks an idle heap, a browser's concern, and it also struck under a
 * steady load of sequential produces (about 1,000 rec/s), 3 memory-reducing mark-compacts per node in a
 * row, 3-31 ms each. Over 10 windows of 2,000 records per cluster life (--trace-gc), two lives without
 * the flag had 9 each inside the windows (48-80 ms of pauses), two with it none.
 */
export const NODE_PROCESS_FLAGS: readonly string[] = ['--initial-old-space-size=256', '--no-memory-reducer'];

export interface ProcessClusterOptions {
  readonly nodes: number;
  readonly basePort: number;
  readonly dataDir: string;
  /** Called with each line a node prints (its stdout/stderr; logs go to its log file). */
  readonly onOutput?: (node: number, line: string) => void;
  /** Called when a node exits unexpectedly (not through stop()/kill()). */
  readonly onExit?: (node: number, how: string) => void;
}

export interface NodeInfo {
  readonly id: number;
  readonly address: string;
  readonly dir: string;
  readonly log: string;
}

interface NodeProc extends NodeInfo {
  child: ChildProcess | null;
  expectedExit: boolean;
  /** How it exited when nobody stopped it (since it was last started), or null. */
  unexpectedExit: string | null;
}

export class ProcessCluster {
  readonly nodes: readonly NodeInfo[];
  private readonly procs: NodeProc[];

  constructor(private readonly options: ProcessClusterOptions) {
    this.procs = Array.from({ length: options.nodes }, (_, k) => {
      const id = k + 1;
      const dir = join(options.dataDir, `node-${id}`);
      return { id, address: `127.0.0.1:${options.basePort + k}`, dir, log: join(dir, 'node.log'), child: null, expectedExit: false, unexpectedExit: null };
    });
    this.nodes = this.procs;
  }

  get bootstrap(): string[] {
    return this.procs.map((p) => p.address);
  }

  /** The node's process id while it runs. */
  pid(id: number): number | undefined {
    return this.proc(id).child?.pid;
  }

  isRunning(id: number): boolean {
    return this.proc(id).child !== null;
  }

  private proc(id: number): NodeProc {
    const p = this.procs[id - 1];
    if (p === undefined) throw new RangeError(`no node ${id}`);
    return p;
  }

  /** Starts every node (or one) as a child process. */
  start(only?: number): void {
    const peers = this.procs.map((p) => `${p.id}=${p.address}`).join(',');
    for (const p of this.procs) {
      if ((only !== undefined && p.id !== only) || p.child !== null) continue;
      mkdirSync(p.dir, { recursive: true });
      const child = spawn(process.execPath, [...NODE_PROCESS_FLAGS, KEEL_BIN, 'node', 'start', '--id', String(p.id), '--data-dir', p.dir, '--listen', p.address, '--peers', peers, '--log-file', p.log], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, [PARENT_PID_ENV]: String(process.pid) } });
      p.child = child;
      p.expectedExit = false;
      p.unexpectedExit = null;
      for (const stream of [child.stdout, child.stderr]) {
        if (stream !== null) createInterface({ input: stream }).on('line', (line) => this.options.onOutput?.(p.id, line));
      }
      child.on('exit', (code, signal) => {
        if (p.child === child) p.child = null;
        if (p.expectedExit) return;
        p.unexpectedExit = signal ?? `code ${code}`;
        this.options.onExit?.(p.id, p.unexpectedExit);
      });
    }
  }

  /**
   * Polls ClusterStatus on every running node until all report ready. Fails at once if a node exits on
   * its own meanwhile (its data directory is in use, its port is taken...): it would never be ready.
   */
  async waitUntilReady(timeoutMs: number): Promise<Map<number, ClusterStatus>> {
    const client = new KeelClient({ bootstrap: this.bootstrap, requestTimeoutMs: 2_000 });
    const deadline = Date.now() + timeoutMs;
    const statuses = new Map<number, ClusterStatus>();
    try {
      while (Date.now() < deadline) {
        const exited = this.procs.filter((p) => p.child === null && p.unexpectedExit !== null);
        if (exited.length > 0) {
          throw new Error(`${exited.map((p) => `node ${p.id} exited (${p.unexpectedExit})`).join(', ')} before the cluster was ready; see ${exited.map((p) => p.log).join(', ')}`);
        }
        for (const p of this.procs) {
          if (p.child === null) continue;
          try {
            statuses.set(p.id, await client.clusterStatus(p.address));
          } catch {
            statuses.delete(p.id);
          }
        }
        const running = this.procs.filter((p) => p.child !== null);
        if (running.length > 0 && running.every((p) => statuses.get(p.id)?.ready === true)) return statuses;
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      client.close();
    }
    const waiting = this.procs.filter((p) => p.child !== null && statuses.get(p.id)?.ready !== true).map((p) => `node ${p.id}: ${statuses.get(p.id)?.readyReason ?? 'not answering'}`);
    throw new Error(`the cluster was not ready within ${Math.round(timeoutMs / 1000)} s (${waiting.join('; ')})`);
  }

  /** kill -9: no shutdown, unsynced writes lost. */
  kill9(id: number): Promise<void> {
    return this.signal(id, 'SIGKILL', 0);
  }

  /** SIGTERM (controlled shutdown), SIGKILL after `graceMs`. */
  stopNode(id: number, graceMs = 15_000): Promise<void> {
    return this.signal(id, 'SIGTERM', graceMs);
  }

  private signal(id: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const p = this.proc(id);
    const child = p.child;
    if (child === null) return Promise.resolve();
    p.expectedExit = true;
    return new Promise((done) => {
      child.once('exit', () => done());
      child.kill(signal);
      if (graceMs > 0) setTimeout(() => { if (p.child === child) child.kill('SIGKILL'); }, graceMs).unref();
    });
  }

  async stop(graceMs = 15_000): Promise<void> {
    await Promise.all(this.procs.map((p) => this.stopNode(p.id, graceMs)));
  }
}
