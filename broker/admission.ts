// A node on a disk with no groups asks every peer whether it has known an earlier life of this node
// (disk-identity.ts), and with what terms, before it starts any group.
import type { NodeId } from '../raft/types.ts';
import { ADMISSION_METHOD, isAdmissionAnswer, replacementFrom, type AdmissionAnswer, type Replacement } from './disk-identity.ts';
import type { Driver } from './driver.ts';
import type { Clock, Logger } from './ports.ts';

/** How long one ask waits for its answer, and the pause before a peer that did not answer is asked again. */
const ASK_TIMEOUT_MS = 1_000;
const ASK_AGAIN_MS = 500;

export interface AdmissionContext {
  readonly driver: Driver;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly peers: readonly NodeId[];
  /** Start count the disk remembers (0: new). */
  readonly storedStarts: number;
}

/** What this node answers a peer on a new disk: the peer's highest life seen here, and every group's term. */
export function admissionAnswer(driver: Driver, from: NodeId, groupsBelow: number): AdmissionAnswer {
  const terms: [number, number][] = [];
  for (const [group, r] of driver.replicas) terms.push([group, r.raw.raft.term]);
  return { startsSeen: driver.peerLives.startsSeen(from), terms, groupsBelow };
}

/** Asks every peer until each has answered; `done` gets null for a new node. */
export function admit(ctx: AdmissionContext, done: (replaced: Replacement | null) => void): void {
  const answers = new Map<NodeId, AdmissionAnswer>();
  const finish = (): void => {
    const replaced = replacementFrom([...answers.values()], ctx.storedStarts);
    if (replaced !== null) {
      const seen = Math.max(...[...answers.values()].map((a) => a.startsSeen));
      ctx.logger.warn('this data directory is not the one this node ran on: peers saw a later life of it; its groups rejoin fenced, voting only once caught up', { storedStarts: ctx.storedStarts, startsSeenByPeers: seen, fencedGroups: replaced.fences.size });
    }
    done(replaced);
  };
  if (ctx.peers.length === 0) return finish();
  ctx.logger.info('new disk: asking every peer whether it knew this node before starting any group', { peers: ctx.peers });
  const ask = (peer: NodeId): void => {
    ctx.driver.request(peer, ADMISSION_METHOD, {}, ASK_TIMEOUT_MS, (body) => {
      if (ctx.driver.isStopped || answers.has(peer)) return;
      if (!isAdmissionAnswer(body)) {
        ctx.clock.setTimer(ASK_AGAIN_MS, () => ask(peer));
        return;
      }
      answers.set(peer, body);
      if (answers.size === ctx.peers.length) finish();
    });
  };
  for (const peer of ctx.peers) ask(peer);
}
