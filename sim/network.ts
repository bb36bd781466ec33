// The simulated network between nodes: per directed link, one-way delay (minimum + exponential), loss,
// duplication, reordering, a bounded queue that drops when full, temporary clogging; and partitions as
// a set of cut directed links (so one-way, bridge and ring partitions are all just sets of cuts).
import type { Frame } from '../broker/ports.ts';
import type { NodeId } from '../raft/types.ts';
import { innerMap } from './maps.ts';
import type { SimRng } from './rng.ts';

export interface NetworkOptions {
  readonly oneWayDelayMinMs: number;
  readonly oneWayDelayMeanMs: number;
  readonly lossProbability: number;
  readonly duplicateProbability: number;
  /** Probability that a frame may overtake earlier frames on its link (else links are FIFO). */
  readonly reorderProbability: number;
  /** Frames in flight per directed link; beyond it new frames are dropped. */
  readonly linkQueueCapacity: number;
}

export const CALM_NETWORK: NetworkOptions = {
  oneWayDelayMinMs: 1,
  oneWayDelayMeanMs: 2,
  lossProbability: 0,
  duplicateProbability: 0,
  reorderProbability: 0,
  linkQueueCapacity: 1_000,
};

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
}

interface Link {
  readonly from: NodeId;
  readonly to: NodeId;
  inFlight: number;
  /** Delivery time of the last frame scheduled FIFO on this link. */
  lastDelivery: number;
  /** While now < cloggedUntil, frames wait in `held` (temporary clogging). */
  cloggedUntil: number;
  held: Frame[];
  /** Partitioned: frames sent on it, or in flight when it was cut, are dropped. */
  cut: boolean;
}

export interface NetworkHost {
  now(): number;
  schedule(atTime: number, fn: () => void): void;
  deliver(to: NodeId, frame: Frame): void;
}

export class SimNetwork {
  options: NetworkOptions;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  /** from -> to -> link (numeric keys: this runs for every frame). */
  private readonly links = new Map<NodeId, Map<NodeId, Link>>();
  /** Every link, in order of creation (heal releases held frames in this order). */
  private readonly linkList: Link[] = [];

  constructor(private readonly host: NetworkHost, private readonly rng: SimRng, options: NetworkOptions) {
    this.options = options;
  }

  private link(from: NodeId, to: NodeId): Link {
    const byTo = innerMap(this.links, from);
    let l = byTo.get(to);
    if (l === undefined) {
      l = { from, to, inFlight: 0, lastDelivery: 0, cloggedUntil: 0, held: [], cut: false };
      byTo.set(to, l);
      this.linkList.push(l);
    }
    return l;
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.links.get(from)?.get(to)?.cut === true;
  }

  send(from: NodeId, to: NodeId, frame: Frame): void {
    this.stats.sent++;
    const o = this.options;
    const l = this.link(from, to);
    if (l.cut || this.rng.chance(o.lossProbability) || l.inFlight >= o.linkQueueCapacity) {
      this.stats.dropped++;
      return;
    }
    this.schedule(frame, l);
    if (this.rng.chance(o.duplicateProbability)) {
      this.stats.duplicated++;
      this.schedule(frame, l);
    }
  }

  private schedule(frame: Frame, l: Link): void {
    const o = this.options;
    const now = this.host.now();
    if (now < l.cloggedUntil) {
      // Held on the clogged link; released (in order) when the clog ends or the network heals.
      l.held.push(frame);
      l.inFlight++;
      return;
    }
    let at = now + o.oneWayDelayMinMs + this.rng.exponential(o.oneWayDelayMeanMs);
    if (!this.rng.chance(o.reorderProbability)) {
      at = Math.max(at, l.lastDelivery);
      l.lastDelivery = at;
    }
    l.inFlight++;
    this.host.schedule(at, () => {
      l.inFlight--;
      // A cut made while the frame was in flight drops it too.
      if (l.cut) {
        this.stats.dropped++;
        return;
      }
      this.stats.delivered++;
      this.host.deliver(l.to, frame);
    });
  }

  // ---- partitions ---------------------------------------------------------------------------

  cutLink(from: NodeId, to: NodeId): void {
    this.link(from, to).cut = true;
  }

  /** Undoes cutLink for one link (heal() undoes every cut). */
  mendLink(from: NodeId, to: NodeId): void {
    this.link(from, to).cut = false;
  }

  /** Cuts every link between different groups, both ways. Nodes in no group are untouched. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups) for (const b of groups) {
      if (a === b) continue;
      for (const x of a) for (const y of b) this.cutLink(x, y);
    }
  }

  isolate(node: NodeId, all: readonly NodeId[]): void {
    this.partition([[node], all.filter((n) => n !== node)]);
  }

  clog(from: NodeId, to: NodeId, untilTime: number): void {
    const l = this.link(from, to);
    l.cloggedUntil = Math.max(l.cloggedUntil, untilTime);
    this.host.schedule(untilTime, () => {
      if (this.host.now() >= l.cloggedUntil) this.release(l);
    });
  }

  private release(l: Link): void {
    l.cloggedUntil = 0;
    const held = l.held;
    l.held = [];
    for (const frame of held) {
      l.inFlight--;
      this.schedule(frame, l);
    }
  }

  heal(): void {
    for (const l of this.linkList) {
      l.cut = false;
      if (l.held.length > 0 || l.cloggedUntil > 0) this.release(l);
    }
  }

  /** Cut links as "from>to", sorted. */
  cutLinks(): string[] {
    return this.linkList.filter((l) => l.cut).map((l) => `${l.from}>${l.to}`).sort();
  }
}
