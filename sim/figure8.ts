// The adversary of scenario figure-8: it drives a Raft group (the main group, or a data partition's)
// through the sequence of Figure 8 of the Raft paper (§5.4.2), with the timing left to the seed, instead
// of waiting for random faults to line it up (leader-flap does, about once in a hundred seeds):
//   1. The leader A and a minority with it are cut off from the rest: A appends its clients' proposals,
//      of its term, on that minority only.
//   2. The rest elect B. B is cut off from everyone the moment it sends its first entry (of its term,
//      higher than A's), which so stays on B alone.
//   3. A's side and the rest meet again, without B. Their longest log (A's) wins: a leader L of a still
//      later term, which carries A's older-term entries to the rest one by one, its own entry last.
//   4. As a follower acknowledges one of those older entries, L's outgoing links are cut: L hears that a
//      majority holds an old entry, but its own entry never reaches anyone. A correct L commits nothing
//      (it may count replicas only for an entry of its own term); one that counts commits the old entry.
//   5. L's side is cut off, and B meets the rest: B's last term is the highest, so B wins and overwrites
//      the old entry. Had L committed it, a committed entry is lost; the checkers see it.
// Any step that does not happen within STEP_MS_MAX (a leader elected elsewhere, no entry to carry) ends
// the attempt: every link cut is mended, and a new attempt starts while the fault lasts.
import type { Frame, GroupId } from '../broker/ports.ts';
import type { NodeId } from '../raft/types.ts';
import type { GroupTarget } from './faults.ts';
import type { World } from './world.ts';

/** Longest wait for any one step before the attempt is abandoned. */
const STEP_MS_MAX = 3_000;
/** How long the last step's cut stays (B's election and its first commit), and the pause between attempts. */
const SETTLE_MS = 1_000;
const POLL_MS = 1;

export interface Figure8Options {
  readonly world: World;
  /** The group to play against next, if it has a leader now (each attempt asks anew). */
  target(): GroupTarget | undefined;
  /** False once the heal phase began (the world heals every link then). */
  active(): boolean;
  /** ms from L's cut (step 4) to the hand-over (step 5): time for L to commit and apply. */
  readonly commitWaitMs: number;
  readonly untilMs: number;
}

/** The indexes of older-term entries a leader has sent in one of its terms. */
interface IndexRange {
  lo: number;
  hi: number;
}

/** Leader → term → the older-term entries it sent in that term. */
type OldSent = Map<NodeId, Map<number, IndexRange>>;

function widen(sent: OldSent, leader: NodeId, term: number, index: number): void {
  let byTerm = sent.get(leader);
  if (byTerm === undefined) sent.set(leader, (byTerm = new Map()));
  const r = byTerm.get(term);
  if (r === undefined) byTerm.set(term, { lo: index, hi: index });
  else {
    r.lo = Math.min(r.lo, index);
    r.hi = Math.max(r.hi, index);
  }
}

type Step =
  | { readonly kind: 'idle' }
  | { readonly kind: 'successor'; readonly group: GroupId; readonly aSide: readonly NodeId[]; readonly rest: readonly NodeId[] }
  | { readonly kind: 'old-ack'; readonly group: GroupId; readonly aSide: readonly NodeId[]; readonly b: NodeId; readonly rest: readonly NodeId[]; readonly oldSent: OldSent };

export class Figure8Adversary {
  private step: Step = { kind: 'idle' };
  private attempt = 0;
  /** Links this adversary cut and has not mended, by "from>to" (the pair kept to mend it). */
  private readonly cuts = new Map<string, readonly [NodeId, NodeId]>();
  private readonly watch = (from: NodeId, frame: Frame): void => this.onFrame(from, frame);

  constructor(private readonly options: Figure8Options) {}

  start(): void {
    this.options.world.frameWatchers.add(this.watch);
    this.findLeader();
  }

  private get w(): World {
    return this.options.world;
  }

  private live(): boolean {
    return this.options.active() && this.w.now < this.options.untilMs;
  }

  private after(ms: number, fn: () => void): void {
    this.w.sched.after(ms, () => {
      if (this.live()) fn();
      else this.stop();
    });
  }

  private stop(): void {
    this.w.frameWatchers.delete(this.watch);
    this.step = { kind: 'idle' };
    if (this.options.active()) this.mendAll();
  }

  /** Step 1, once the target group has a leader. Sides are counted among the group's voters. */
  private findLeader(): void {
    const t = this.options.target();
    if (t === undefined || !this.w.proc(t.leader).up || !t.voters.includes(t.leader)) return this.after(POLL_MS, () => this.findLeader());
    const a = t.leader;
    const others = this.w.rngs.faults.shuffle(t.voters.filter((n) => n !== a));
    const minority = Math.ceil(t.voters.length / 2) - 1;
    const aSide = [a, ...others.slice(0, minority - 1)];
    const rest = others.slice(minority - 1);
    this.note(`1: group ${t.group}: leader ${a} and ${aSide.length - 1} more cut off from ${rest.join(',')}`);
    this.cutBetween(aSide, rest);
    this.enter({ kind: 'successor', group: t.group, aSide, rest });
  }

  private onFrame(from: NodeId, frame: Frame): void {
    const s = this.step;
    if (s.kind === 'idle' || !this.live()) return;
    for (const gm of frame.messages) {
      if (gm.group !== s.group) continue;
      const m = gm.msg;
      if (s.kind === 'successor' && m.type === 'app' && s.rest.includes(from) && m.entries.some((e) => e.term === m.term)) {
        // Step 2: B's first entry of its term is on the wire; cut now, and it is dropped in flight.
        const rest = s.rest.filter((n) => n !== from);
        this.note(`2: ${from} elected in term ${m.term}, cut off with its first entry`);
        this.cutBetween([from], this.w.nodeIds.filter((n) => n !== from));
        this.mendBetween(s.aSide, rest);
        this.note(`3: ${s.aSide.join(',')} meet ${rest.join(',')} again`);
        return this.enter({ kind: 'old-ack', group: s.group, aSide: s.aSide, b: from, rest, oldSent: new Map() });
      }
      if (s.kind !== 'old-ack') continue;
      if (m.type === 'app' && from !== s.b) {
        for (const e of m.entries) if (e.term < m.term) widen(s.oldSent, from, m.term, e.index);
      } else if (m.type === 'appResp' && !m.reject) {
        const sent = s.oldSent.get(m.to)?.get(m.term);
        if (sent !== undefined && m.index >= sent.lo && m.index <= sent.hi) return this.handOver(s, m.to, from, m.index);
      }
    }
  }

  /** Steps 4 and 5. */
  private handOver(s: Extract<Step, { kind: 'old-ack' }>, l: NodeId, follower: NodeId, index: number): void {
    this.note(`4: ${follower} acknowledges old entry ${index}; leader ${l} can no longer send`);
    const everyoneElse = this.w.nodeIds.filter((n) => n !== l);
    for (const n of everyoneElse) this.cut(l, n);
    this.step = { kind: 'idle' };
    const attempt = this.attempt;
    this.after(this.options.commitWaitMs, () => {
      if (attempt !== this.attempt) return;
      const lSide = [...new Set([...s.aSide, l])];
      const bSide = [s.b, ...s.rest.filter((n) => n !== l)];
      this.note(`5: ${lSide.join(',')} cut off; ${s.b} meets ${bSide.slice(1).join(',')}`);
      this.cutBetween(lSide, bSide);
      this.mendBetween([s.b], bSide.slice(1));
      this.after(SETTLE_MS, () => this.restart(attempt));
    });
  }

  private enter(step: Step): void {
    this.step = step;
    const attempt = this.attempt;
    this.after(STEP_MS_MAX, () => {
      if (attempt === this.attempt && this.step === step) {
        this.note(`step timed out (${step.kind})`);
        this.restart(attempt);
      }
    });
  }

  private restart(attempt: number): void {
    if (attempt !== this.attempt) return;
    this.attempt++;
    this.step = { kind: 'idle' };
    this.mendAll();
    this.after(SETTLE_MS, () => this.findLeader());
  }

  private note(what: string): void {
    this.w.timeline(0, `FAULT figure-8 ${what}`);
  }

  private cut(a: NodeId, b: NodeId): void {
    this.w.network.cutLink(a, b);
    this.cuts.set(`${a}>${b}`, [a, b]);
  }

  private cutBetween(xs: readonly NodeId[], ys: readonly NodeId[]): void {
    for (const x of xs) for (const y of ys) {
      this.cut(x, y);
      this.cut(y, x);
    }
  }

  private mendBetween(xs: readonly NodeId[], ys: readonly NodeId[]): void {
    for (const x of xs) for (const y of ys) {
      for (const [a, b] of [[x, y], [y, x]] as const) {
        this.w.network.mendLink(a, b);
        this.cuts.delete(`${a}>${b}`);
      }
    }
  }

  private mendAll(): void {
    for (const [a, b] of this.cuts.values()) this.w.network.mendLink(a, b);
    this.cuts.clear();
  }
}
