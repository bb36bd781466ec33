// How a node tells a replaced disk from a new node. A node restarted on an empty data directory (wiped,
// or a new machine under the old id) has forgotten every vote it cast and every entry it acknowledged,
// and Raft's safety rests on those promises (raft/config.ts, voteFenceTerm).
//
// Every node keeps, on disk, the highest start count it has seen in each peer's frames (a frame carries
// the sender's incarnation, which is its start count times INCARNATION_RANDOM_PARTS plus a random part).
// It records a peer's new life before it steps that frame's messages, so anything it did on the strength
// of a peer's vote or acknowledgement is on its disk after the record.
//
// A node whose disk holds no groups yet asks every peer, before it starts any group: "which of my lives
// have you seen, and what are your groups' terms?" If none saw a life this disk does not remember, it is
// a new node. Otherwise its disk was replaced: each of its groups is fenced one term past the highest
// term a peer reported for it. A candidate the lost disk voted for holds that term; and a leader of that
// term or an earlier one may still count the lost disk's acknowledgements in its progress, so the fence
// makes the replica refuse it, and only a leader elected after the lost life ended (whose progress
// started afresh) replicates to it. It waits for every peer, not a majority: a peer that is down may be
// the only one that saw it, or the one that holds the term.
import type { Term } from '../raft/types.ts';
import type { GroupId, WriteOp } from './ports.ts';

/** Deliberate bugs for proving the simulator catches them. Never set outside tests. */
export interface NodePlantedBugs {
  /** A node on a replaced disk rejoins as if new: no fences (what Keel did before admission). */
  readonly rejoinWithoutFence?: boolean;
  /** A replica whose stored state is corrupt rejoins empty without a fence (node-host.ts repair). */
  readonly repairWithoutFence?: boolean;
}

/** An incarnation is the start count times this, plus a random part below it. */
export const INCARNATION_RANDOM_PARTS = 1 << 20;
/** The start count of this node's lives, on its own disk. */
export const STARTS_KEY = 'n/incarnation';
/** The highest start count seen of each peer: JSON {"<node id>": starts}. */
const PEER_STARTS_KEY = 'n/peer-starts';
/** Fence terms of the groups of a replaced disk: JSON {"<group>": term}. */
const FENCES_KEY = 'n/fences';
/** A replaced disk's groups below this id predate it (decimal). */
const GROUPS_BELOW_KEY = 'n/replaced-groups-below';
/** The RPC a node on a new disk sends every peer. */
export const ADMISSION_METHOD = 'node.admission';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function startsOf(incarnation: number): number {
  return Math.floor(incarnation / INCARNATION_RANDOM_PARTS);
}

/** The start count a disk remembers (0: a new disk). */
export function storedStarts(records: ReadonlyMap<string, Uint8Array>): number {
  const v = records.get(STARTS_KEY);
  return v === undefined ? 0 : Number(decoder.decode(v)) || 0;
}

export function startsOp(starts: number): WriteOp {
  return { type: 'put', key: STARTS_KEY, value: encoder.encode(String(starts)) };
}

/** A JSON object of non-negative integers keyed by positive integers; anything else reads as empty. */
function readCounts(records: ReadonlyMap<string, Uint8Array>, key: string): Map<number, number> {
  const out = new Map<number, number>();
  const v = records.get(key);
  if (v === undefined) return out;
  try {
    const parsed: unknown = JSON.parse(decoder.decode(v));
    if (typeof parsed !== 'object' || parsed === null) return out;
    for (const [k, n] of Object.entries(parsed)) if (Number.isSafeInteger(Number(k)) && Number.isSafeInteger(n) && (n as number) >= 0) out.set(Number(k), n as number);
  } catch {
    // An unreadable record counts as none: for peer starts that only delays detection to the next frame.
  }
  return out;
}

function countsOp(key: string, counts: ReadonlyMap<number, number>): WriteOp {
  return { type: 'put', key, value: encoder.encode(JSON.stringify(Object.fromEntries([...counts].sort((a, b) => a[0] - b[0])))) };
}

export function readReplacement(records: ReadonlyMap<string, Uint8Array>): Replacement {
  const below = records.get(GROUPS_BELOW_KEY);
  return { fences: readCounts(records, FENCES_KEY) as Map<GroupId, Term>, groupsBelow: below === undefined ? 0 : Number(decoder.decode(below)) || 0 };
}

export function replacementOps(r: Replacement): WriteOp[] {
  return [fencesOp(r.fences), { type: 'put', key: GROUPS_BELOW_KEY, value: encoder.encode(String(r.groupsBelow)) }];
}

/** Stores the groups' fence terms (read back by readReplacement): a replaced disk's, or a repaired group's. */
export function fencesOp(fences: ReadonlyMap<GroupId, Term>): WriteOp {
  return countsOp(FENCES_KEY, fences);
}

/** The highest life of each peer seen in its frames, kept on disk. */
export class PeerLives {
  private seen = new Map<number, number>();

  load(records: ReadonlyMap<string, Uint8Array>): void {
    this.seen = readCounts(records, PEER_STARTS_KEY);
  }

  /** Highest start count seen of `peer` (0: never). */
  startsSeen(peer: number): number {
    return this.seen.get(peer) ?? 0;
  }

  /** Notes a frame's sender life; returns the write that records a new one (null: nothing new). */
  observe(peer: number, incarnation: number): WriteOp | null {
    const starts = startsOf(incarnation);
    if (starts <= this.startsSeen(peer)) return null;
    this.seen.set(peer, starts);
    return countsOp(PEER_STARTS_KEY, this.seen);
  }
}

/** A peer's answer to ADMISSION_METHOD. */
export interface AdmissionAnswer {
  /** The highest start count of the asking node the peer has seen (0: never). */
  readonly startsSeen: number;
  /** [group, current term] of every group replica the peer hosts. */
  readonly terms: readonly (readonly [number, number])[];
  /** Every group below this id was allocated before the peer answered (its metadata's next group id). */
  readonly groupsBelow: number;
}

/** What a replaced disk must keep in mind: its groups' fences, and that groups below `groupsBelow` predate it. */
export interface Replacement {
  readonly fences: Map<GroupId, Term>;
  readonly groupsBelow: GroupId;
}

export function isAdmissionAnswer(body: unknown): body is AdmissionAnswer {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as { startsSeen?: unknown; terms?: unknown };
  return Number.isSafeInteger(b.startsSeen) && Number.isSafeInteger((body as { groupsBelow?: unknown }).groupsBelow) && Array.isArray(b.terms)
    && b.terms.every((t) => Array.isArray(t) && t.length === 2 && Number.isSafeInteger(t[0]) && Number.isSafeInteger(t[1]));
}

/**
 * The fences a node on a disk remembering `starts` lives must keep, from every peer's answer: none if no
 * peer saw a later life (a new node), else one past each group's highest reported term.
 */
export function replacementFrom(answers: readonly AdmissionAnswer[], starts: number): Replacement | null {
  if (!answers.some((a) => a.startsSeen > starts)) return null;
  const fences = new Map<GroupId, Term>();
  let groupsBelow = 0;
  for (const a of answers) {
    for (const [group, term] of a.terms) if (term + 1 > (fences.get(group) ?? 0)) fences.set(group, (term + 1) as Term);
    groupsBelow = Math.max(groupsBelow, a.groupsBelow);
  }
  return { fences, groupsBelow };
}
