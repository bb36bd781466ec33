// One attempt of a client request to a Keel node, as the broker workloads send them: over the client
// link (lost if the node is down, delayed while it is paused), answered over the link again, or given up
// after the attempt timeout (the outcome is then unknown to the client).
import type { KeelNode } from '../../broker/keel-node.ts';
import type { NodeId } from '../../raft/types.ts';
import { KeelApp } from '../apps/keel-app.ts';
import type { World } from '../world.ts';
import { clientCall } from './raft-workload.ts';

export interface CallLink {
  readonly attemptTimeoutMs: number;
  readonly linkDelayMs: number;
}

/** Calls `fn` on node `to`; `onAnswer` with its answer, or `onTimeout` if none came within the attempt timeout. */
export function keelCall<T>(w: World, link: CallLink, to: NodeId, fn: (n: KeelNode, done: (r: T) => void) => void, onAnswer: (r: T) => void, onTimeout: () => void): void {
  let answered = false;
  w.sched.after(link.attemptTimeoutMs, () => {
    if (answered) return;
    answered = true;
    onTimeout();
  });
  clientCall(w, to, link.linkDelayMs, 200, (app) => {
    if (!(app instanceof KeelApp)) return;
    fn(app.node, (r) => w.sched.after(link.linkDelayMs, () => {
      if (answered) return;
      answered = true;
      onAnswer(r);
    }));
  });
}
