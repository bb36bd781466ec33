// The vocabulary of the Raft core: ids, entries, persistent state and the messages peers exchange.
// Everything here is plain data; messages are discriminated unions on a literal `type`.

/** A member of a Raft group. Positive integer; 0 (`NONE`) means "nobody". */
export type NodeId = number & { readonly __brand: 'NodeId' };
/** A Raft term (Raft §5.1). Never decreases on a node. */
export type Term = number & { readonly __brand: 'Term' };
/** A log position; the first real entry has index 1 and index 0 is the empty prefix. */
export type Index = number & { readonly __brand: 'Index' };

export const NONE = 0 as NodeId;

export const nodeId = (n: number): NodeId => n as NodeId;
export const term = (n: number): Term => n as Term;
export const index = (n: number): Index => n as Index;

export type EntryType = 'normal' | 'conf';

/** One log entry. `data` is opaque to Raft except for `conf` entries (an encoded ConfChange). */
export interface Entry {
  readonly term: Term;
  readonly index: Index;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** Bytes an entry counts for in size limits: payload plus a fixed header estimate. */
export const ENTRY_OVERHEAD_BYTES = 16;
export function entryBytes(e: Entry): number {
  return e.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

/** State that must be durable before any message depending on it leaves the node (Raft §5.1, Figure 2). */
export interface HardState {
  readonly term: Term;
  readonly vote: NodeId;
  readonly commit: Index;
}

export const EMPTY_HARD_STATE: HardState = { term: 0 as Term, vote: NONE, commit: 0 as Index };

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * A membership configuration. Outside a joint change `votersOutgoing` is empty.
 * Invariant: a node is never both a voter (incoming) and a learner.
 * `learnersNext` holds voters of the outgoing config that become learners when the joint config is left.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly votersOutgoing: readonly NodeId[];
  readonly learnersNext: readonly NodeId[];
  readonly autoLeave: boolean;
}

export const EMPTY_CONF_STATE: ConfState = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };

export interface SnapshotMeta {
  readonly index: Index;
  readonly term: Term;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

export const EMPTY_SNAPSHOT: Snapshot = {
  meta: { index: 0 as Index, term: 0 as Term, confState: EMPTY_CONF_STATE },
  data: new Uint8Array(0),
};

export type ConfChangeType = 'addNode' | 'addLearner' | 'removeNode';

export interface ConfChangeSingle {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

/**
 * A membership change (etcd's ConfChangeV2). One change with transition 'auto' is applied directly
 * (single-server change); several changes, or transition 'explicit'/'implicit', go through a joint
 * configuration (Raft thesis §4.3). An empty `changes` list leaves the joint configuration.
 * 'implicit' and 'auto' (when joint) leave automatically; 'explicit' waits for an empty change.
 */
export interface ConfChange {
  readonly transition: 'auto' | 'implicit' | 'explicit';
  readonly changes: readonly ConfChangeSingle[];
  /** Opaque host context carried with the change (for example a request id). */
  readonly context: string;
}

export type RaftRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state a host may want to observe; reported in Ready when it changes. */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: RaftRole;
}

/** Answer to a read-index request: once the state machine has applied `index`, reads tagged `context` may be served. */
export interface ReadState {
  readonly index: Index;
  readonly context: string;
}

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  /** Sender's term; 0 for messages that are term-free (a follower's forwarded read-index). */
  readonly term: Term;
}

/** AppendEntries (Raft Figure 2): entries follow (index, logTerm). */
export interface MsgApp extends Envelope {
  readonly type: 'app';
  readonly index: Index;
  readonly logTerm: Term;
  readonly entries: readonly Entry[];
  readonly commit: Index;
}

/**
 * Reply to MsgApp. Accept: `index` is the last index now matching the leader.
 * Reject: `index` is the rejected prev index; (`rejectHint`, `logTerm`) say where the follower's log
 * may match, for fast backtracking (Raft §5.3, "the follower can include the term of the conflicting entry").
 */
export interface MsgAppResp extends Envelope {
  readonly type: 'appResp';
  readonly index: Index;
  readonly reject: boolean;
  readonly rejectHint: Index;
  readonly logTerm: Term;
}

/** RequestVote (§5.2) or the pre-vote probe (thesis §9.6), carrying the candidate's last (term, index). */
export interface MsgVote extends Envelope {
  readonly type: 'vote' | 'preVote';
  readonly index: Index;
  readonly logTerm: Term;
  /** Set when campaigning because of a leadership transfer: bypasses the leader lease. */
  readonly transfer: boolean;
}

export interface MsgVoteResp extends Envelope {
  readonly type: 'voteResp' | 'preVoteResp';
  readonly reject: boolean;
}

export interface MsgHeartbeat extends Envelope {
  readonly type: 'heartbeat';
  readonly commit: Index;
  /** Read-index context being confirmed by this round, or '' (Raft thesis §6.4). */
  readonly context: string;
}

export interface MsgHeartbeatResp extends Envelope {
  readonly type: 'heartbeatResp';
  readonly context: string;
}

/** One chunk of an InstallSnapshot (Raft §7). Chunks of one snapshot are sent in order, one at a time. */
export interface MsgSnap extends Envelope {
  readonly type: 'snap';
  readonly meta: SnapshotMeta;
  readonly offset: number;
  readonly totalBytes: number;
  readonly chunk: Uint8Array;
}

/** Follower's answer to a snapshot chunk: `nextOffset` is the next byte it wants; `reject` restarts the transfer. */
export interface MsgSnapResp extends Envelope {
  readonly type: 'snapResp';
  readonly snapIndex: Index;
  readonly nextOffset: number;
  readonly reject: boolean;
}

/** Leadership transfer: tells the target to campaign at once (thesis §3.10). */
export interface MsgTimeoutNow extends Envelope {
  readonly type: 'timeoutNow';
}

/** A read-index request forwarded from a follower to the leader (thesis §6.4). */
export interface MsgReadIndex extends Envelope {
  readonly type: 'readIndex';
  readonly context: string;
}

export interface MsgReadIndexResp extends Envelope {
  readonly type: 'readIndexResp';
  readonly index: Index;
  readonly context: string;
  /** True when the leader could not serve it (not leader, lost leadership); the host retries. */
  readonly reject: boolean;
}

export type Message =
  | MsgApp
  | MsgAppResp
  | MsgVote
  | MsgVoteResp
  | MsgHeartbeat
  | MsgHeartbeatResp
  | MsgSnap
  | MsgSnapResp
  | MsgTimeoutNow
  | MsgReadIndex
  | MsgReadIndexResp;

export type MessageType = Message['type'];

export const MESSAGE_TYPES: readonly MessageType[] = [
  'app', 'appResp', 'vote', 'preVote', 'voteResp', 'preVoteResp', 'heartbeat', 'heartbeatResp',
  'snap', 'snapResp', 'timeoutNow', 'readIndex', 'readIndexResp',
];

/** Responses that, sent before the local state they reflect is durable, would break safety (PITFALLS 3, 4). */
export function isResponseAfterPersist(m: Message): boolean {
  return m.type === 'appResp' || m.type === 'voteResp' || m.type === 'snapResp';
}

export function isResponseType(t: MessageType): boolean {
  return t === 'appResp' || t === 'voteResp' || t === 'preVoteResp' || t === 'heartbeatResp' || t === 'snapResp' || t === 'readIndexResp';
}
