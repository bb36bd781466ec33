// Membership transitions (Raft thesis §4.3 joint consensus; etcd's confchange/confchange.go).
// Each function takes the current configuration and returns a new one with its progress map, or an
// error value when the change is not allowed. Nothing is mutated in place: a refused change leaves
// the tracker untouched.
import { Progress } from './tracker/progress.ts';
import { EMPTY_TRACKER_CONFIG, type ProgressTracker, type TrackerConfig } from './tracker/tracker.ts';
import type { ConfChange, ConfChangeSingle, ConfState, Index, NodeId } from './types.ts';

export type ConfChangeResult =
  | { readonly ok: true; readonly config: TrackerConfig; readonly progress: Map<NodeId, Progress> }
  | { readonly ok: false; readonly error: string };

interface Draft {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
  progress: Map<NodeId, Progress>;
}

function copyProgress(pr: Progress): Progress {
  // The old map is discarded once the change is installed, so the inflight window can be shared.
  const c = Object.create(Progress.prototype) as Progress;
  Object.assign(c, pr);
  return c;
}

function draftOf(tracker: ProgressTracker): Draft {
  const cfg = tracker.config;
  const progress = new Map<NodeId, Progress>();
  for (const [id, pr] of tracker.progress) progress.set(id, copyProgress(pr));
  return {
    incoming: new Set(cfg.voters.incoming),
    outgoing: new Set(cfg.voters.outgoing),
    learners: new Set(cfg.learners),
    learnersNext: new Set(cfg.learnersNext),
    autoLeave: cfg.autoLeave,
    progress,
  };
}

function finish(d: Draft): ConfChangeResult {
  const invariantError = checkInvariants(d);
  if (invariantError !== null) return { ok: false, error: invariantError };
  return {
    ok: true,
    config: {
      voters: { incoming: d.incoming, outgoing: d.outgoing },
      learners: d.learners,
      learnersNext: d.learnersNext,
      autoLeave: d.autoLeave,
    },
    progress: d.progress,
  };
}

function checkInvariants(d: Draft): string | null {
  for (const ids of [d.incoming, d.outgoing, d.learners, d.learnersNext]) {
    for (const id of ids) if (!d.progress.has(id)) return `no progress for member ${id}`;
  }
  for (const id of d.learnersNext) {
    if (!d.outgoing.has(id)) return `${id} is in learnersNext but not an outgoing voter`;
    if (d.progress.get(id)?.isLearner) return `${id} is in learnersNext but already marked learner`;
  }
  for (const id of d.learners) {
    if (d.incoming.has(id) || d.outgoing.has(id)) return `${id} is a learner and a voter`;
    if (!d.progress.get(id)?.isLearner) return `${id} is a learner but its progress says voter`;
  }
  if (d.outgoing.size === 0) {
    if (d.learnersNext.size > 0) return 'learnersNext set outside a joint config';
    if (d.autoLeave) return 'autoLeave set outside a joint config';
  }
  return null;
}

function initProgress(d: Draft, id: NodeId, isLearner: boolean, lastIndex: Index, tracker: ProgressTracker): void {
  if (isLearner) d.learners.add(id);
  else d.incoming.add(id);
  // Probe from the last index: the leader backs off quickly if the new member holds less.
  const pr = new Progress(Math.max(lastIndex, 1) as Index, tracker.inflightMessagesMax, tracker.inflightBytesMax, isLearner);
  // A new member counts as active, so check-quorum does not depose the leader before it could answer.
  pr.recentActive = true;
  d.progress.set(id, pr);
}

function makeVoter(d: Draft, id: NodeId, lastIndex: Index, tracker: ProgressTracker): void {
  const pr = d.progress.get(id);
  if (pr === undefined) return initProgress(d, id, false, lastIndex, tracker);
  pr.isLearner = false;
  d.learners.delete(id);
  d.learnersNext.delete(id);
  d.incoming.add(id);
}

function remove(d: Draft, id: NodeId): void {
  if (!d.progress.has(id)) return;
  d.incoming.delete(id);
  d.learners.delete(id);
  d.learnersNext.delete(id);
  // Still a voter of the outgoing half: keep tracking it until the joint config is left.
  if (!d.outgoing.has(id)) d.progress.delete(id);
}

function makeLearner(d: Draft, id: NodeId, lastIndex: Index, tracker: ProgressTracker): void {
  const pr = d.progress.get(id);
  if (pr === undefined) return initProgress(d, id, true, lastIndex, tracker);
  if (pr.isLearner) return;
  remove(d, id);
  d.progress.set(id, pr);
  // An outgoing voter cannot be a learner yet: it becomes one when the joint config is left.
  if (d.outgoing.has(id)) {
    d.learnersNext.add(id);
  } else {
    pr.isLearner = true;
    d.learners.add(id);
  }
}

function applyChanges(d: Draft, changes: readonly ConfChangeSingle[], lastIndex: Index, tracker: ProgressTracker): string | null {
  for (const cc of changes) {
    if (!Number.isSafeInteger(cc.nodeId) || cc.nodeId <= 0) return `invalid node id ${cc.nodeId}`;
    switch (cc.type) {
      case 'addNode':
        makeVoter(d, cc.nodeId, lastIndex, tracker);
        break;
      case 'addLearner':
        makeLearner(d, cc.nodeId, lastIndex, tracker);
        break;
      case 'removeNode':
        remove(d, cc.nodeId);
        break;
      default:
        return `unknown change type ${String((cc as { type: unknown }).type)}`;
    }
  }
  if (d.incoming.size === 0) return 'removed all voters';
  return null;
}

/** Enters a joint configuration: outgoing := current voters, incoming := current voters + changes. */
export function enterJoint(tracker: ProgressTracker, autoLeave: boolean, changes: readonly ConfChangeSingle[], lastIndex: Index): ConfChangeResult {
  if (tracker.isJoint()) return { ok: false, error: 'config is already joint' };
  const d = draftOf(tracker);
  if (d.incoming.size === 0) return { ok: false, error: "can't make a zero-voter config joint" };
  d.outgoing = new Set(d.incoming);
  const err = applyChanges(d, changes, lastIndex, tracker);
  if (err !== null) return { ok: false, error: err };
  d.autoLeave = autoLeave;
  return finish(d);
}

/** Leaves the joint configuration: the incoming half becomes the configuration. */
export function leaveJoint(tracker: ProgressTracker): ConfChangeResult {
  if (!tracker.isJoint()) return { ok: false, error: "can't leave a non-joint config" };
  const d = draftOf(tracker);
  for (const id of d.learnersNext) {
    d.learners.add(id);
    const pr = d.progress.get(id);
    if (pr !== undefined) pr.isLearner = true;
  }
  d.learnersNext = new Set();
  for (const id of d.outgoing) {
    if (!d.incoming.has(id) && !d.learners.has(id)) d.progress.delete(id);
  }
  d.outgoing = new Set();
  d.autoLeave = false;
  return finish(d);
}

/** A change of at most one voter, applied directly (single-server membership change, thesis §4.1). */
export function simpleChange(tracker: ProgressTracker, changes: readonly ConfChangeSingle[], lastIndex: Index): ConfChangeResult {
  if (tracker.isJoint()) return { ok: false, error: "can't apply a simple config change in a joint config" };
  const d = draftOf(tracker);
  const err = applyChanges(d, changes, lastIndex, tracker);
  if (err !== null) return { ok: false, error: err };
  const before = tracker.config.voters.incoming;
  let changed = 0;
  for (const id of d.incoming) if (!before.has(id)) changed++;
  for (const id of before) if (!d.incoming.has(id)) changed++;
  if (changed > 1) return { ok: false, error: 'more than one voter changed without entering a joint config' };
  return finish(d);
}

/** Applies a ConfChange the way etcd's ConfChangeV2 does: leave, simple, or enter joint. */
export function applyConfChange(tracker: ProgressTracker, cc: ConfChange, lastIndex: Index): ConfChangeResult {
  if (cc.changes.length === 0) return leaveJoint(tracker);
  const useJoint = cc.transition !== 'auto' || cc.changes.length > 1;
  if (!useJoint) return simpleChange(tracker, cc.changes, lastIndex);
  const autoLeave = cc.transition === 'auto' || cc.transition === 'implicit';
  return enterJoint(tracker, autoLeave, cc.changes, lastIndex);
}

/** Rebuilds a configuration from a ConfState (restart, snapshot): every member probed from lastIndex. */
export function restoreConfState(tracker: ProgressTracker, cs: ConfState, lastIndex: Index): ConfChangeResult {
  const d: Draft = {
    incoming: new Set(cs.voters),
    outgoing: new Set(cs.votersOutgoing),
    learners: new Set(cs.learners),
    learnersNext: new Set(cs.learnersNext),
    autoLeave: cs.autoLeave,
    progress: new Map(),
  };
  const members = new Set<NodeId>([...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext]);
  for (const id of [...members].sort((a, b) => a - b)) {
    const pr = new Progress(Math.max(lastIndex, 1) as Index, tracker.inflightMessagesMax, tracker.inflightBytesMax, cs.learners.includes(id));
    pr.recentActive = true;
    d.progress.set(id, pr);
  }
  return finish(d);
}

export function isEmptyConfig(cfg: TrackerConfig): boolean {
  return cfg === EMPTY_TRACKER_CONFIG || (cfg.voters.incoming.size === 0 && cfg.voters.outgoing.size === 0 && cfg.learners.size === 0);
}
