// Configuration of one Raft node. Every limit is named with its unit; defaults are for a LAN cluster
// ticking every 50 ms (election after 10-20 ticks, heartbeat every 2).
import { assert } from './assert.ts';
import type { LogStorage } from './storage.ts';
import type { Index, NodeId, Term } from './types.ts';

/** The only source of randomness Raft uses (election jitter). Injected, so a seed reproduces a run. */
export interface Rng {
  /** Uniform integer in [0, bound). */
  nextInt(bound: number): number;
}

/** Where Raft reports notable transitions; the host routes them to its logger or the simulator's trace. */
export interface RaftLogger {
  info(message: string): void;
  debug(message: string): void;
}

export const SILENT_LOGGER: RaftLogger = { info: () => {}, debug: () => {} };

/**
 * Deliberate bugs for proving that tests and the simulator catch them. Never set outside tests.
 * - grantVoteWithoutLogCheck: vote without the §5.4.1 up-to-date check (PITFALLS 2).
 * - commitOldTermByCounting: drop the Figure-8 restriction of §5.4.2 (PITFALLS 1).
 * - ackBeforePersist: acknowledge appends before they are durable (PITFALLS 4).
 * - voteBeforePersist: grant votes before the term and vote are durable (PITFALLS 3).
 * - truncateOnMatchingAppend: drop the follower's entries after a matching (stale) append (PITFALLS 13).
 */
export interface PlantedBugs {
  readonly grantVoteWithoutLogCheck?: boolean;
  readonly commitOldTermByCounting?: boolean;
  readonly ackBeforePersist?: boolean;
  readonly voteBeforePersist?: boolean;
  readonly truncateOnMatchingAppend?: boolean;
  /** Drop append rejections: the leader never backs up, so a follower that fell behind stays behind. */
  readonly ignoreAppendRejections?: boolean;
}

export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: LogStorage;
  readonly rng: Rng;
  /** Followers campaign after a random timeout in [electionTicks, 2 * electionTicks). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Last index applied before a restart; entries up to it are not handed out again. */
  readonly applied?: Index;
  readonly entriesPerMessageMax: number;
  readonly messageBytesMax: number;
  readonly inflightMessagesMax: number;
  /** 0 = no byte bound on the in-flight window. */
  readonly inflightBytesMax: number;
  /** A leader refuses proposals once its uncommitted tail exceeds this (0 = unbounded). */
  readonly uncommittedBytesMax: number;
  readonly committedBytesPerReadyMax: number;
  readonly snapshotChunkBytesMax: number;
  readonly readRequestsMax: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly logger: RaftLogger;
  readonly plantedBugs: PlantedBugs;
  /**
   * Non-zero for a replica whose node lost its disk (a wiped data directory) while its peers had terms
   * up to this one. What the lost disk promised is gone: votes it cast in those terms, entries it
   * acknowledged. So the replica starts at this term (older leaders, which may count its lost
   * acknowledgements, cannot use it), never votes in a term up to it (a second vote in a term it voted
   * in), votes for nobody until its log holds an entry of this term or later (a leader elected without
   * it holds every committed entry, so from then on its up-to-date check is honest again), and does not
   * campaign until then. 0: an intact disk.
   */
  readonly voteFenceTerm: Term;
}

export type RaftOptions = Pick<RaftConfig, 'id' | 'storage' | 'rng'> & Partial<Omit<RaftConfig, 'id' | 'storage' | 'rng'>>;

export const RAFT_DEFAULTS = {
  electionTicks: 10,
  heartbeatTicks: 2,
  entriesPerMessageMax: 512,
  messageBytesMax: 1 << 20,
  inflightMessagesMax: 256,
  inflightBytesMax: 16 << 20,
  uncommittedBytesMax: 64 << 20,
  committedBytesPerReadyMax: 8 << 20,
  snapshotChunkBytesMax: 256 << 10,
  readRequestsMax: 4096,
  checkQuorum: true,
  preVote: true,
  logger: SILENT_LOGGER,
  plantedBugs: {},
  voteFenceTerm: 0 as Term,
} as const;

export function resolveConfig(o: RaftOptions): RaftConfig {
  const c: RaftConfig = { ...RAFT_DEFAULTS, ...o } as RaftConfig;
  assert(Number.isSafeInteger(c.id) && c.id > 0, 'raft: id must be a positive integer');
  assert(c.heartbeatTicks > 0, 'raft: heartbeatTicks must be positive');
  assert(c.electionTicks > c.heartbeatTicks, 'raft: electionTicks must exceed heartbeatTicks');
  assert(c.entriesPerMessageMax > 0, 'raft: entriesPerMessageMax must be positive');
  assert(c.messageBytesMax > 0, 'raft: messageBytesMax must be positive');
  assert(c.inflightMessagesMax > 0, 'raft: inflightMessagesMax must be positive');
  assert(c.snapshotChunkBytesMax > 0, 'raft: snapshotChunkBytesMax must be positive');
  assert(c.readRequestsMax > 0, 'raft: readRequestsMax must be positive');
  return c;
}
