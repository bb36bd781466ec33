// The simulated world: one scheduler, one seed split into streams, a network, and one process per node
// with its own disk and clock. A process runs the real node code through ports built here; crashing it
// drops the process and everything scheduled for it, restarting it rebuilds the node from its disk.
import type { Clock, Frame, Logger, Ports, StorageError, TimerHandle, Transport, WriteOp } from '../broker/ports.ts';
import { SILENT } from '../broker/ports.ts';
import { describeMessage } from '../raft/describe.ts';
import type { NodeId } from '../raft/types.ts';
import { SimDisk, type DiskOptions } from './disk.ts';
import { SimNetwork, type NetworkOptions } from './network.ts';
import { SimRng } from './rng.ts';
import { Scheduler } from './scheduler.ts';
import { Trace } from './trace.ts';

/** What the world needs from the node code it runs. */
export interface SimApp {
  start(): void;
  stop(): void;
  receive(frame: Frame): void;
  readonly writeInFlight: boolean;
}

export type AppFactory = (id: NodeId, ports: Ports, onFatal: (err: StorageError) => void) => SimApp;

export interface ClockOptions {
  /** Each node's clock starts offset by up to this much. */
  readonly skewMsMax: number;
  /** Each node's clock runs fast or slow by up to this fraction (0.01 = 1 %). */
  readonly driftMax: number;
}

export interface WorldOptions {
  readonly seed: number;
  readonly nodeIds: readonly NodeId[];
  readonly network: NetworkOptions;
  readonly disk: DiskOptions;
  readonly clock: ClockOptions;
  readonly keepTraceLines: boolean;
}

/** Event kinds in the trace hash. */
export const EV = { timer: 1, frame: 2, disk: 3, load: 4, fault: 5, client: 6 } as const;

/** Virtual epoch for wall-clock timestamps (2025-01-01T00:00:00Z), so record timestamps look real. */
const EPOCH_MS = 1_735_689_600_000;

export class SimProcess {
  incarnation = 0;
  up = false;
  paused = false;
  app: SimApp | null = null;
  crashes = 0;
  restarts = 0;
  /** Events that arrived while paused, run in order at resume. */
  deferred: (() => void)[] = [];
  readonly cancelled = new Set<number>();
  skewMs = 0;
  drift = 0;

  constructor(readonly id: NodeId, readonly disk: SimDisk) {}
}

export class World {
  readonly sched = new Scheduler();
  readonly trace: Trace;
  readonly network: SimNetwork;
  readonly procs = new Map<NodeId, SimProcess>();
  readonly nodeIds: readonly NodeId[];
  /** Independent random streams, all from the run seed. */
  readonly rngs: { readonly network: SimRng; readonly disk: SimRng; readonly clock: SimRng; readonly workload: SimRng; readonly faults: SimRng };
  private timerSeq = 0;
  logger: (id: NodeId) => Logger = () => SILENT;
  /**
   * A node's code threw (an assertion fired: it found an impossible state). The run reports it as a
   * violation and the node is crashed, as a real process would be.
   */
  onNodeError: (id: NodeId, err: unknown) => void = (_id, err) => {
    throw err;
  };
  /** Watchers of every frame a node hands to the network (faults that strike right after a reply). */
  readonly frameWatchers = new Set<(from: NodeId, frame: Frame) => void>();
  /** For the --trace timeline: a node's state in a few words (role, term, commit of its main group). */
  describeNode: (id: NodeId) => string = () => '';

  constructor(readonly options: WorldOptions, private readonly factory: AppFactory) {
    const seed = options.seed;
    this.rngs = {
      network: new SimRng(seed, 'network'),
      disk: new SimRng(seed, 'disk'),
      clock: new SimRng(seed, 'clock'),
      workload: new SimRng(seed, 'workload'),
      faults: new SimRng(seed, 'faults'),
    };
    this.trace = new Trace(options.keepTraceLines);
    this.nodeIds = options.nodeIds;
    this.network = new SimNetwork({
      now: () => this.sched.now,
      schedule: (at, fn) => this.sched.at(at, fn),
      deliver: (to, frame) => this.deliverFrame(to, frame),
    }, this.rngs.network, options.network);
    for (const id of options.nodeIds) {
      const p = new SimProcess(id, new SimDisk(new SimRng(seed, `disk/${id}`), options.disk));
      p.skewMs = this.rngs.clock.nextFloat() * options.clock.skewMsMax;
      p.drift = (this.rngs.clock.nextFloat() * 2 - 1) * options.clock.driftMax;
      this.procs.set(id, p);
    }
  }

  get now(): number {
    return this.sched.now;
  }

  proc(id: NodeId): SimProcess {
    const p = this.procs.get(id);
    if (p === undefined) throw new RangeError(`no node ${id}`);
    return p;
  }

  /** Runs fn for the process's current incarnation after `delayMs` of global time, unless it crashed. */
  nodeEvent(p: SimProcess, delayMs: number, kind: number, a: number, fn: () => void): void {
    const inc = p.incarnation;
    this.sched.at(this.sched.now + delayMs, () => {
      if (p.incarnation !== inc || !p.up) return;
      const run = (): void => {
        this.trace.event(this.sched.now, kind, p.id, a);
        this.guard(p, fn);
      };
      if (p.paused) p.deferred.push(run);
      else run();
    });
  }

  /** Whether timeline lines are kept: callers on hot paths check it before building a line. */
  get tracing(): boolean {
    return this.trace.lines !== null;
  }

  /** Adds a timeline line (only when the trace keeps lines, as `keel sim replay --trace` asks). */
  timeline(node: NodeId | 0, text: string): void {
    if (this.trace.lines === null) return;
    const t = (this.sched.now / 1000).toFixed(4).padStart(10);
    const who = node === 0 ? '      ' : `n${node}`.padEnd(3) + (this.procs.get(node)?.up === true ? '   ' : ' ✝ ');
    const state = node === 0 ? ''.padEnd(24) : this.describeNode(node).padEnd(24);
    this.trace.line(`${t}s ${who} ${state} ${text}`);
  }

  /** Runs node code; an exception is the node's failure, not the simulator's. */
  private guard(p: SimProcess, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.timeline(p.id, `EXCEPTION ${(err as Error).message}`);
      this.onNodeError(p.id, err);
      this.crash(p.id);
    }
  }

  private deliverFrame(to: NodeId, frame: Frame): void {
    const p = this.procs.get(to);
    if (p === undefined || !p.up || p.app === null) return;
    const run = (): void => {
      this.trace.event(this.sched.now, EV.frame, to, frame.from, frame.messages.length + frame.rpcs.length);
      if (this.tracing) {
        for (const gm of frame.messages) this.timeline(to, `recv g${gm.group} ${describeMessage(gm.msg)}`);
        for (const rpc of frame.rpcs) this.timeline(to, `recv rpc ${rpc.kind} ${rpc.method}#${rpc.id} from n${frame.from}`);
      }
      this.guard(p, () => p.app?.receive(frame));
    };
    if (p.paused) p.deferred.push(run);
    else run();
  }

  private portsFor(p: SimProcess): Ports {
    const inc = p.incarnation;
    const localNow = (): number => p.skewMs + this.sched.now * (1 + p.drift);
    const clock: Clock = {
      now: localNow,
      wallMs: () => EPOCH_MS + localNow(),
      setTimer: (delayMs: number, fn: () => void): TimerHandle => {
        const id = ++this.timerSeq;
        if (delayMs <= 0) {
          this.sched.immediate(() => {
            if (p.incarnation !== inc || !p.up || p.cancelled.delete(id)) return;
            if (p.paused) p.deferred.push(() => this.guard(p, fn));
            else this.guard(p, fn);
          });
          return { id };
        }
        this.nodeEvent(p, delayMs / (1 + p.drift), EV.timer, 0, () => {
          if (p.cancelled.delete(id)) return;
          fn();
        });
        return { id };
      },
      cancelTimer: (h: TimerHandle) => {
        p.cancelled.add(h.id);
      },
    };
    const transport: Transport = {
      send: (to: NodeId, frame: Frame) => {
        if (p.incarnation !== inc || !p.up) return;
        // RPC bodies cross the real wire as JSON: do the same here, so a body that would not survive
        // serialization fails in the simulator too, and no object is shared between two nodes.
        const f = frame.rpcs.length === 0 ? frame : { ...frame, rpcs: frame.rpcs.map((r) => ({ ...r, body: r.body === undefined ? undefined : JSON.parse(JSON.stringify(r.body)) as unknown })) };
        this.network.send(p.id, to, f);
        // No iterator per frame while no fault watches (nearly always).
        if (this.frameWatchers.size > 0) for (const watch of this.frameWatchers) watch(p.id, f);
      },
    };
    const storage = {
      load: (done: (records: ReadonlyMap<string, Uint8Array>, err: StorageError | null) => void) => {
        this.nodeEvent(p, this.options.disk.loadLatencyMs, EV.load, p.disk.recordCount, () => done(p.disk.snapshot(), null));
      },
      write: (batch: readonly WriteOp[], done: (err: StorageError | null) => void) => {
        p.disk.write(batch, (delay, fn) => this.nodeEvent(p, delay, EV.disk, batch.length, () => {
          if (this.tracing) this.timeline(p.id, `disk: batch of ${batch.length} ops durable`);
          fn();
        }), done);
      },
    };
    return { clock, transport, storage, rng: new SimRng(this.options.seed, `raft/${p.id}/${inc}`), logger: this.logger(p.id) };
  }

  /** Starts (or restarts) a node from whatever its disk holds. */
  start(id: NodeId): void {
    const p = this.proc(id);
    if (p.up) return;
    p.incarnation++;
    p.up = true;
    p.paused = false;
    p.deferred = [];
    p.cancelled.clear();
    if (p.incarnation > 1) p.restarts++;
    this.trace.event(this.sched.now, EV.fault, id, 1);
    this.timeline(id, p.incarnation > 1 ? `RESTART (incarnation ${p.incarnation}, ${p.disk.recordCount} records on disk)` : 'START');
    p.app = this.factory(id, this.portsFor(p), () => this.crash(id));
    p.app.start();
  }

  /** kill -9: the process and its pending events vanish; the disk keeps what was durable. */
  crash(id: NodeId): void {
    const p = this.proc(id);
    if (!p.up) return;
    this.trace.event(this.sched.now, EV.fault, id, 2);
    this.timeline(id, `CRASH (kill -9${p.disk.hasWritesInFlight ? ', a write in flight' : ''})`);
    p.app?.stop();
    p.app = null;
    p.up = false;
    p.paused = false;
    p.deferred = [];
    p.crashes++;
    p.disk.crash();
  }

  /** A process pause (GC, VM stall): nothing runs on it; its timers and messages fire late. */
  pause(id: NodeId, durationMs: number): void {
    const p = this.proc(id);
    if (!p.up || p.paused) return;
    this.trace.event(this.sched.now, EV.fault, id, 3);
    this.timeline(id, `PAUSE for ${Math.round(durationMs)} ms`);
    p.paused = true;
    const inc = p.incarnation;
    this.sched.after(durationMs, () => {
      if (p.incarnation !== inc) return;
      this.resume(id);
    });
  }

  resume(id: NodeId): void {
    const p = this.proc(id);
    if (!p.paused) return;
    p.paused = false;
    this.trace.event(this.sched.now, EV.fault, id, 4);
    this.timeline(id, `RESUME (${p.deferred.length} delayed events)`);
    const deferred = p.deferred;
    p.deferred = [];
    for (const run of deferred) {
      if (!p.up || p.paused) break;
      run();
    }
  }

  upNodes(): NodeId[] {
    return this.nodeIds.filter((id) => this.proc(id).up);
  }
}
