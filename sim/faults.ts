// Fault schedules: timed fault events, data only, so fast-check can generate and shrink them and a
// seed file can store them. `applyFault` turns one event into actions on the world.
import type { Frame, GroupId } from '../broker/ports.ts';
import type { NodeId } from '../raft/types.ts';
import { Figure8Adversary } from './figure8.ts';
import type { NetworkOptions } from './network.ts';
import type { World } from './world.ts';

/**
 * A node by position in the cluster (0-based), the current leader of the system's main group (the
 * controller, or the register group), or the leader of a random data partition.
 */
export type Target = number | 'leader' | 'partition-leader';

export type FaultEvent =
  /**
   * `inFlight`: wait (briefly) for a moment when the node has a storage write in flight, then kill it.
   * `corrupt`: a stored record is damaged while it is down; `wipe`: it restarts on an empty disk. Both
   * only on the fixed minority that may lose its data.
   */
  | { readonly atMs: number; readonly kind: 'crash'; readonly target: Target; readonly restartAfterMs: number; readonly corrupt?: boolean; readonly wipe?: boolean; readonly inFlight?: boolean }
  | { readonly atMs: number; readonly kind: 'pause'; readonly target: Target; readonly ms: number; readonly crashAfter?: boolean }
  | { readonly atMs: number; readonly kind: 'isolate'; readonly target: Target; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'partition'; readonly sides: readonly (readonly number[])[]; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'one-way'; readonly from: Target; readonly to: Target; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'bridge'; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'ring'; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'clog'; readonly from: Target; readonly to: Target; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'network'; readonly options: Partial<NetworkOptions>; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'clock-jump'; readonly target: Target; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'membership'; readonly action: 'replace-voter' }
  /**
   * For `ms`, a node that grants a vote (`replies: 'votes'`) or acknowledges an append ('acks') is killed
   * right after the reply leaves, with `probability`, and restarted `restartAfterMsMax` ms or less later:
   * what the reply promised must already be on disk (Raft Figure 2, PITFALLS 3 and 4).
   */
  | { readonly atMs: number; readonly kind: 'crash-after-reply'; readonly replies: 'votes' | 'acks'; readonly probability: number; readonly ms: number; readonly restartAfterMsMax: number }
  /**
   * For `ms`, every leader of the main group (or of a random data partition) is killed `killAfterMsMax`
   * ms or less after it is first seen leading, and restarted `restartAfterMsMax` ms or less later:
   * leaders that die with their first entries on some followers only (Figure 8 of the Raft paper).
   */
  | { readonly atMs: number; readonly kind: 'leader-flap'; readonly group: 'main' | 'partition'; readonly ms: number; readonly killAfterMsMax: number; readonly restartAfterMsMax: number }
  /**
   * For `ms`, the main group (or a random data partition, each attempt) is driven again and again
   * through the sequence of Figure 8 of the Raft paper (sim/figure8.ts); `commitWaitMs` is how long the leader that carried old entries to a
   * majority keeps its side before its successor is let in.
   */
  | { readonly atMs: number; readonly kind: 'figure-8'; readonly group: 'main' | 'partition'; readonly ms: number; readonly commitWaitMs: number };

export type FaultSchedule = readonly FaultEvent[];

/** A Raft group with a leader, and its voters: what a fault aimed at a group (figure-8, leader faults) acts on. */
export interface GroupTarget {
  readonly group: GroupId;
  readonly leader: NodeId;
  readonly voters: readonly NodeId[];
}

/** `leader`'s group as a target, with the voters its replica knows; undefined without a leader or that replica. */
export function groupTarget(group: GroupId, leader: NodeId | undefined, voters: (leader: NodeId) => readonly NodeId[] | undefined): GroupTarget | undefined {
  if (leader === undefined) return undefined;
  const v = voters(leader);
  return v === undefined ? undefined : { group, leader, voters: v };
}

/** What applying faults needs from the system under test. */
export interface FaultContext {
  readonly world: World;
  /** The main group (the controller, or the register group) with its leader and voters, if it has a leader. */
  mainTarget(): GroupTarget | undefined;
  /** A random data partition with a leader, if the system has partitions and one has a leader. */
  partitionTarget?(): GroupTarget | undefined;
  /** Nodes whose data may be corrupted (a fixed minority). */
  readonly corruptible: ReadonlySet<NodeId>;
  /** Corrupts a stored record of a node that is down. */
  corrupt(node: NodeId): void;
  /**
   * Replaces the disk of a node that is down with an empty one. Only systems whose nodes detect a
   * replaced disk offer it (keel; the bare Raft system would rejoin with amnesia, which no Raft survives).
   */
  wipe?(node: NodeId): void;
  /** Starts a membership change of the main group (scenario membership-change-under-faults). */
  membership?(action: 'replace-voter'): void;
  /** Restores the calm network options (end of a temporary network fault). */
  readonly baseNetwork: NetworkOptions;
  /** False once the heal phase began: faults' delayed parts (a kill after a pause) must not fire then. */
  active(): boolean;
}

function resolve(ctx: FaultContext, t: Target): NodeId | undefined {
  const ids = ctx.world.nodeIds;
  if (t === 'leader') return ctx.mainTarget()?.leader ?? ids[ctx.world.rngs.faults.nextInt(ids.length)];
  if (t === 'partition-leader') return ctx.partitionTarget?.()?.leader ?? ctx.mainTarget()?.leader ?? ids[ctx.world.rngs.faults.nextInt(ids.length)];
  return ids[t % ids.length];
}

/** Crashes are ten times likelier to hit a write in flight: poll for one, for a bounded number of tries. */
function crashWhileWriting(ctx: FaultContext, id: NodeId, triesLeft: number, kill: () => void): void {
  const p = ctx.world.proc(id);
  if (!p.up || p.app === null || p.app.writeInFlight || triesLeft <= 0) return kill();
  later(ctx, 0.25, () => crashWhileWriting(ctx, id, triesLeft - 1, kill));
}

/** Schedules `fn` after `ms` of virtual time. */
function later(ctx: FaultContext, ms: number, fn: () => void): void {
  ctx.world.sched.after(ms, () => {
    if (ctx.active()) fn();
  });
}

function healLater(ctx: FaultContext, ms: number): void {
  later(ctx, ms, () => {
    ctx.world.timeline(0, 'HEAL network');
    ctx.world.network.heal();
  });
}

export function describeFault(f: FaultEvent): string {
  const { atMs: _at, kind, ...rest } = f;
  return `${kind} ${JSON.stringify(rest)}`;
}

export function applyFault(ctx: FaultContext, f: FaultEvent): void {
  const w = ctx.world;
  w.timeline(0, `FAULT ${describeFault(f)}`);
  const net = w.network;
  const all = w.nodeIds;
  switch (f.kind) {
    case 'crash': {
      const id = resolve(ctx, f.target);
      if (id === undefined) return;
      const kill = (): void => {
        w.crash(id);
        if (f.corrupt === true && ctx.corruptible.has(id)) ctx.corrupt(id);
        if (f.wipe === true && ctx.corruptible.has(id) && ctx.wipe !== undefined) {
          w.timeline(id, 'WIPE (restarts on an empty disk)');
          ctx.wipe(id);
        }
        later(ctx, f.restartAfterMs, () => w.start(id));
      };
      if (f.inFlight === true) crashWhileWriting(ctx, id, 200, kill);
      else kill();
      return;
    }
    case 'pause': {
      const id = resolve(ctx, f.target);
      if (id === undefined) return;
      w.pause(id, f.ms);
      // Pause then kill: the combination that exposed duplicates in Jepsen's Redpanda analysis.
      if (f.crashAfter === true) later(ctx, f.ms / 2, () => {
        w.crash(id);
        later(ctx, f.ms, () => w.start(id));
      });
      return;
    }
    case 'isolate': {
      const id = resolve(ctx, f.target);
      if (id === undefined) return;
      net.isolate(id, all);
      healLater(ctx, f.ms);
      return;
    }
    case 'partition':
      net.partition(f.sides.map((side) => side.map((i) => all[i % all.length] as NodeId)));
      healLater(ctx, f.ms);
      return;
    case 'one-way': {
      const from = resolve(ctx, f.from);
      const to = resolve(ctx, f.to);
      if (from === undefined || to === undefined || from === to) return;
      net.cutLink(from, to);
      healLater(ctx, f.ms);
      return;
    }
    case 'bridge': {
      // Two halves that only the middle node connects (Jepsen's "bridge").
      const n = all.length;
      const mid = Math.floor(n / 2);
      const left = all.slice(0, mid);
      const right = all.slice(mid + 1);
      net.partition([left, right]);
      healLater(ctx, f.ms);
      return;
    }
    case 'ring': {
      // Majorities ring: each node sees only its neighbours, so every node is in some majority but no
      // two nodes agree on which.
      const n = all.length;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        const d = Math.min((i - j + n) % n, (j - i + n) % n);
        if (d > 1) net.cutLink(all[i] as NodeId, all[j] as NodeId);
      }
      healLater(ctx, f.ms);
      return;
    }
    case 'clog': {
      const from = resolve(ctx, f.from);
      const to = resolve(ctx, f.to);
      if (from === undefined || to === undefined) return;
      net.clog(from, to, w.now + f.ms);
      return;
    }
    case 'network': {
      net.options = { ...ctx.baseNetwork, ...f.options };
      later(ctx, f.ms, () => { net.options = ctx.baseNetwork; });
      return;
    }
    case 'clock-jump': {
      const id = resolve(ctx, f.target);
      if (id === undefined) return;
      // A clock stepped forward: the node's timers and timestamps see a different time. Durations
      // already scheduled are not affected (timers are monotonic), like CLOCK_MONOTONIC under NTP.
      w.proc(id).skewMs += f.ms;
      return;
    }
    case 'membership':
      ctx.membership?.(f.action);
      return;
    case 'leader-flap':
      flapLeaders(ctx, f, w.now + f.ms);
      return;
    case 'crash-after-reply':
      crashAfterReplies(ctx, f);
      return;
    case 'figure-8': {
      const target = f.group === 'partition' && ctx.partitionTarget !== undefined ? () => ctx.partitionTarget?.() : () => ctx.mainTarget();
      new Figure8Adversary({ world: w, target, active: () => ctx.active(), commitWaitMs: f.commitWaitMs, untilMs: w.now + f.ms }).start();
      return;
    }
  }
}

/** How often leader-flap looks for a new leader (ms of virtual time): well below an election's length. */
const FLAP_POLL_MS = 1;

/** Kills the leader once it is seen, then looks for the next one (a node down is nobody's leader). */
function flapLeaders(ctx: FaultContext, f: Extract<FaultEvent, { kind: 'leader-flap' }>, untilMs: number): void {
  const w = ctx.world;
  if (w.now >= untilMs) return;
  const partition = f.group === 'partition' ? ctx.partitionTarget?.()?.leader : undefined;
  const id = partition ?? ctx.mainTarget()?.leader;
  if (id === undefined || !w.proc(id).up) return later(ctx, FLAP_POLL_MS, () => flapLeaders(ctx, f, untilMs));
  const rng = w.rngs.faults;
  later(ctx, rng.nextFloat() * f.killAfterMsMax, () => {
    if (w.proc(id).up) {
      w.timeline(0, `FAULT leader-flap kills ${id}`);
      w.crash(id);
      later(ctx, rng.nextFloat() * f.restartAfterMsMax, () => w.start(id));
    }
    flapLeaders(ctx, f, untilMs);
  });
}

/** Whether a frame carries a reply of the kind: a granted vote, or an accepted append. */
function carriesReply(frame: Frame, replies: 'votes' | 'acks'): boolean {
  for (const gm of frame.messages) {
    const m = gm.msg;
    if (replies === 'votes' ? m.type === 'voteResp' && !m.reject : m.type === 'appResp' && !m.reject) return true;
  }
  return false;
}

function crashAfterReplies(ctx: FaultContext, f: Extract<FaultEvent, { kind: 'crash-after-reply' }>): void {
  const w = ctx.world;
  const rng = w.rngs.faults;
  const watch = (from: NodeId, frame: Frame): void => {
    if (!carriesReply(frame, f.replies) || !rng.chance(f.probability)) return;
    // After the event that sent the reply: whatever that turn handed to the disk is in flight.
    later(ctx, 0, () => {
      if (!w.proc(from).up) return;
      w.timeline(0, `FAULT crash-after-reply kills ${from}`);
      w.crash(from);
      later(ctx, rng.nextFloat() * f.restartAfterMsMax, () => w.start(from));
    });
  };
  w.frameWatchers.add(watch);
  w.sched.after(f.ms, () => w.frameWatchers.delete(watch));
}
