// Fault schedules: timed fault events, data only, so fast-check can generate and shrink them and a
// seed file can store them. `applyFault` turns one event into actions on the world.
import type { NodeId } from '../raft/types.ts';
import type { NetworkOptions } from './network.ts';
import type { World } from './world.ts';

/** A node by position in the cluster (0-based), or the current leader of the system's main group. */
export type Target = number | 'leader';

export type FaultEvent =
  | { readonly atMs: number; readonly kind: 'crash'; readonly target: Target; readonly restartAfterMs: number; readonly corrupt?: boolean }
  | { readonly atMs: number; readonly kind: 'pause'; readonly target: Target; readonly ms: number; readonly crashAfter?: boolean }
  | { readonly atMs: number; readonly kind: 'isolate'; readonly target: Target; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'partition'; readonly sides: readonly (readonly number[])[]; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'one-way'; readonly from: Target; readonly to: Target; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'bridge'; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'ring'; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'clog'; readonly from: Target; readonly to: Target; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'network'; readonly options: Partial<NetworkOptions>; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'clock-jump'; readonly target: Target; readonly ms: number }
  | { readonly atMs: number; readonly kind: 'membership'; readonly action: 'replace-voter' };

export type FaultSchedule = readonly FaultEvent[];

/** What applying faults needs from the system under test. */
export interface FaultContext {
  readonly world: World;
  /** Current leader of the main group, if any. */
  leader(): NodeId | undefined;
  /** Nodes whose data may be corrupted (a fixed minority). */
  readonly corruptible: ReadonlySet<NodeId>;
  /** Corrupts a stored record of a node that is down. */
  corrupt(node: NodeId): void;
  /** Starts a membership change of the main group (scenario membership-change-under-faults). */
  membership?(action: 'replace-voter'): void;
  /** Restores the calm network options (end of a temporary network fault). */
  readonly baseNetwork: NetworkOptions;
}

function resolve(ctx: FaultContext, t: Target): NodeId | undefined {
  const ids = ctx.world.nodeIds;
  if (t === 'leader') return ctx.leader() ?? ids[ctx.world.rngs.faults.nextInt(ids.length)];
  return ids[t % ids.length];
}

/** Schedules `fn` after `ms` of virtual time. */
function later(ctx: FaultContext, ms: number, fn: () => void): void {
  ctx.world.sched.after(ms, fn);
}

export function applyFault(ctx: FaultContext, f: FaultEvent): void {
  const w = ctx.world;
  const net = w.network;
  const all = w.nodeIds;
  switch (f.kind) {
    case 'crash': {
      const id = resolve(ctx, f.target);
      if (id === undefined) return;
      w.crash(id);
      if (f.corrupt === true && ctx.corruptible.has(id)) ctx.corrupt(id);
      later(ctx, f.restartAfterMs, () => w.start(id));
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
      later(ctx, f.ms, () => net.heal());
      return;
    }
    case 'partition':
      net.partition(f.sides.map((side) => side.map((i) => all[i % all.length] as NodeId)));
      later(ctx, f.ms, () => net.heal());
      return;
    case 'one-way': {
      const from = resolve(ctx, f.from);
      const to = resolve(ctx, f.to);
      if (from === undefined || to === undefined || from === to) return;
      net.cutLink(from, to);
      later(ctx, f.ms, () => net.heal());
      return;
    }
    case 'bridge': {
      // Two halves that only the middle node connects (Jepsen's "bridge").
      const n = all.length;
      const mid = Math.floor(n / 2);
      const left = all.slice(0, mid);
      const right = all.slice(mid + 1);
      net.partition([left, right]);
      later(ctx, f.ms, () => net.heal());
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
      later(ctx, f.ms, () => net.heal());
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
  }
}
