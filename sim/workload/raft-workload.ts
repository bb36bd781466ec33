// Clients of the Raft-level runs: each proposes unique payloads to the register group, follows leader
// hints, and times out like a real client. Requests and answers cross a client link with delay; a
// request reaching a crashed node is lost, one reaching a paused node waits for it to resume.
import type { ProposeOutcome } from '../../broker/replica.ts';
import { NONE, type NodeId } from '../../raft/types.ts';
import type { Violation } from '../checkers/raft-checker.ts';
import { RaftApp } from '../apps/raft-app.ts';
import type { AppliedPayloads } from '../apps/register-machine.ts';
import { EV, type World } from '../world.ts';

/** Longest pause between a client's tries while it looks for the leader. */
const REDIRECT_BACKOFF_MS_MAX = 100;

export interface ClientOptions {
  readonly clients: number;
  readonly requestTimeoutMs: number;
  readonly thinkTimeMs: number;
  /** One-way client <-> node delay. */
  readonly linkDelayMs: number;
}

export type OpStatus = 'pending' | 'ok' | 'fail' | 'unknown';

export interface ProposeOp {
  readonly client: number;
  readonly payload: string;
  readonly invokedAtMs: number;
  status: OpStatus;
  index: number;
  completedAtMs: number;
}

/**
 * Payloads are ASCII (`c<client>-<seq>`): copied char by char, which for a dozen bytes is several times
 * cheaper than a TextEncoder call, and the workload makes one per attempt.
 */
function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Sends `fn` to node `id` over the client link: lost if the node is down, delayed if paused. */
export function clientCall(world: World, id: NodeId, delayMs: number, client: number, fn: (app: unknown) => void): void {
  const p = world.proc(id);
  world.nodeEvent(p, delayMs, EV.client, client, () => {
    if (p.app !== null) fn(p.app);
  });
}

export class RaftWorkload {
  readonly ops: ProposeOp[] = [];
  private issuing = true;
  private healStartMs = Number.POSITIVE_INFINITY;
  private leaderHint: NodeId = NONE;
  private seq = 0;

  constructor(private readonly world: World, private readonly options: ClientOptions) {}

  start(): void {
    for (let c = 0; c < this.options.clients; c++) this.world.sched.after(this.world.rngs.workload.nextFloat() * 10, () => this.next(c));
  }

  stopIssuing(): void {
    this.issuing = false;
  }

  healPhaseStarted(): void {
    this.healStartMs = this.world.now;
  }

  private pickTarget(): NodeId {
    const ids = this.world.nodeIds;
    if (this.leaderHint !== NONE) return this.leaderHint;
    return ids[this.world.rngs.workload.nextInt(ids.length)] as NodeId;
  }

  private next(client: number): void {
    if (!this.issuing) return;
    const op: ProposeOp = { client, payload: `c${client}-${++this.seq}`, invokedAtMs: this.world.now, status: 'pending', index: 0, completedAtMs: 0 };
    this.ops.push(op);
    this.attempt(op, 0);
  }

  private attempt(op: ProposeOp, redirects: number): void {
    const w = this.world;
    const target = this.pickTarget();
    let answered = false;
    const finish = (status: OpStatus, index = 0): void => {
      if (answered) return;
      answered = true;
      op.status = status;
      op.index = index;
      op.completedAtMs = w.now;
      w.sched.after(this.options.thinkTimeMs * w.rngs.workload.nextFloat(), () => this.next(op.client));
    };
    // The client gives up after its timeout: the outcome is unknown (the entry may still commit).
    w.sched.after(this.options.requestTimeoutMs, () => {
      if (answered) return;
      this.leaderHint = NONE;
      finish('unknown');
    });
    clientCall(w, target, this.options.linkDelayMs, op.client, (app) => {
      if (!(app instanceof RaftApp)) return;
      if (w.tracing) w.timeline(target, `client ${op.client}: propose ${op.payload}`);
      app.propose(asciiBytes(op.payload), (o: ProposeOutcome) => {
        w.sched.after(this.options.linkDelayMs, () => {
          if (answered) return;
          if (w.tracing) w.timeline(0, `client ${op.client}: ${op.payload} -> ${o.ok ? `ok at index ${o.index}` : o.code}`);
          if (o.ok) {
            this.leaderHint = target;
            finish('ok', o.index);
          } else if ((o.code === 'NOT_LEADER' || o.code === 'GROUP_STOPPED') && w.now - op.invokedAtMs < this.options.requestTimeoutMs) {
            // Refused before anything was appended: safe to send the same payload elsewhere. A client keeps
            // looking for the leader until its request times out (an election can outlast a few tries).
            this.leaderHint = o.leader !== NONE && o.leader !== target ? o.leader : NONE;
            answered = true;
            w.sched.after(Math.min(20 + redirects * 20, REDIRECT_BACKOFF_MS_MAX), () => this.attempt(op, redirects + 1));
          } else if (o.code === 'PROPOSAL_LOST' || o.code === 'NOT_LEADER' || o.code === 'GROUP_STOPPED' || o.code === 'TRANSFER_IN_PROGRESS' || o.code === 'UNCOMMITTED_LIMIT') {
            this.leaderHint = NONE;
            finish('fail');
          } else {
            finish('unknown');
          }
        });
      });
    });
  }

  /** Liveness after heal: something committed after the heal started, and nothing failed since then. */
  livenessViolations(boundMs: number): Violation[] {
    const afterHeal = this.ops.filter((o) => o.invokedAtMs >= this.healStartMs);
    const firstOk = afterHeal.filter((o) => o.status === 'ok').reduce((m, o) => Math.min(m, o.completedAtMs), Number.POSITIVE_INFINITY);
    if (!Number.isFinite(firstOk) || firstOk - this.healStartMs > boundMs) {
      return [{ checker: 'liveness', message: `no proposal committed within ${boundMs} ms of the heal (${afterHeal.length} tried)`, atMs: this.world.now }];
    }
    const bad = afterHeal.filter((o) => o.invokedAtMs > firstOk && (o.status === 'fail' || o.status === 'unknown'));
    if (bad.length > 0) {
      const b = bad[0] as ProposeOp;
      return [{ checker: 'liveness', message: `${bad.length} proposals failed after the healed cluster recovered (first: ${b.payload} ${b.status} at ${Math.round(b.completedAtMs)} ms)`, atMs: this.world.now }];
    }
    return [];
  }

  /** Every acknowledged proposal is applied, at its index, on every live replica. */
  durabilityViolations(machines: ReadonlyMap<NodeId, AppliedPayloads>): Violation[] {
    const out: Violation[] = [];
    for (const op of this.ops) {
      if (op.status !== 'ok') continue;
      for (const [node, machine] of machines) {
        const v = machine.payloadAt(op.index);
        if (v !== op.payload) {
          out.push({ checker: 'lost-write', message: `acknowledged ${op.payload} at index ${op.index} but node ${node} applied ${v === undefined ? 'nothing' : v} there`, atMs: this.world.now });
          if (out.length >= 5) return out;
        }
      }
    }
    return out;
  }

  counts(): Record<OpStatus, number> {
    const c: Record<OpStatus, number> = { pending: 0, ok: 0, fail: 0, unknown: 0 };
    for (const o of this.ops) c[o.status]++;
    return c;
  }
}
