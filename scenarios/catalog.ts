// Named fault scenarios. Each is a fast-check arbitrary of everything a run draws besides the world's own
// randomness: network and disk behaviour, clock skew, and a timed fault schedule. fast-check generates
// one per seed and shrinks a failing one to a minimal schedule. Ranges follow what found bugs elsewhere
// (PITFALLS.md, TigerBeetle's swarm): delays 0-30 ms + exp(30-100 ms), loss up to 30 %, duplication up
// to 50 %, link queues of 2-20 frames, pauses, kills with writes in flight.
import fc from 'fast-check';
import { FAST_DISK, type DiskOptions } from '../sim/disk.ts';
import type { FaultEvent, Target } from '../sim/faults.ts';
import { CALM_NETWORK, type NetworkOptions } from '../sim/network.ts';
import type { ClockOptions } from '../sim/world.ts';

/** Raft knobs a scenario may vary: small messages and windows reorder replication; short elections churn. */
export interface RaftKnobs {
  readonly entriesPerMessageMax: number;
  readonly inflightMessagesMax: number;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
}

export const DEFAULT_KNOBS: RaftKnobs = { entriesPerMessageMax: 512, inflightMessagesMax: 256 };

/** What a scenario generates for one run. */
export interface Generated {
  readonly nodes: number;
  readonly voters: number;
  readonly raft?: RaftKnobs;
  readonly network: NetworkOptions;
  readonly disk: DiskOptions;
  readonly clock: ClockOptions;
  readonly schedule: readonly FaultEvent[];
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  arbitrary(safetyMs: number): fc.Arbitrary<Generated>;
}

const NO_SKEW: ClockOptions = { skewMsMax: 0, driftMax: 0 };

const at = (safetyMs: number): fc.Arbitrary<number> => fc.integer({ min: 300, max: Math.max(400, safetyMs - 300) });
const target = (nodes: number): fc.Arbitrary<Target> => fc.oneof(fc.constantFrom<Target>('leader', 'partition-leader'), fc.integer({ min: 0, max: nodes - 1 }));
const ms = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });
const sorted = (events: FaultEvent[]): FaultEvent[] => [...events].sort((a, b) => a.atMs - b.atMs);

const knobs: fc.Arbitrary<RaftKnobs> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(DEFAULT_KNOBS) },
  { weight: 1, arbitrary: fc.record({ entriesPerMessageMax: fc.constantFrom(1, 2, 4, 64), inflightMessagesMax: fc.constantFrom(1, 2, 8, 256) }) },
);

function base(schedule: fc.Arbitrary<FaultEvent[]>, overrides: Partial<Omit<Generated, 'schedule'>> = {}): fc.Arbitrary<Generated> {
  return fc.tuple(schedule, knobs).map(([s, raft]) => ({ nodes: 3, voters: 3, network: CALM_NETWORK, disk: FAST_DISK, clock: NO_SKEW, raft, ...overrides, schedule: sorted(s) }));
}

const flakyNetwork: fc.Arbitrary<NetworkOptions> = fc.record({
  oneWayDelayMinMs: ms(0, 30),
  oneWayDelayMeanMs: ms(1, 100),
  lossProbability: fc.double({ min: 0, max: 0.3, noNaN: true }),
  duplicateProbability: fc.double({ min: 0, max: 0.5, noNaN: true }),
  reorderProbability: fc.double({ min: 0, max: 0.5, noNaN: true }),
  linkQueueCapacity: ms(2, 20),
});

const crashyDisk: fc.Arbitrary<DiskOptions> = fc.record({
  writeLatencyMinMs: fc.double({ min: 0.05, max: 2, noNaN: true }),
  writeLatencyMeanMs: fc.double({ min: 0.1, max: 5, noNaN: true }),
  crashKeepsInFlightProbability: fc.double({ min: 0, max: 1, noNaN: true }),
  fsyncFailureProbability: fc.constant(0),
  loadLatencyMs: ms(1, 20),
});

function crash(n: number, safetyMs: number, extra: Partial<{ corrupt: boolean; wipe: boolean; inFlight: boolean }> = {}): fc.Arbitrary<FaultEvent> {
  return fc.record({ atMs: at(safetyMs), target: target(n), restartAfterMs: ms(0, 3_000) }).map((c) => ({ ...c, kind: 'crash' as const, ...extra }));
}

function pause(n: number, safetyMs: number, crashAfter: boolean): fc.Arbitrary<FaultEvent> {
  return fc.record({ atMs: at(safetyMs), target: target(n), ms: ms(50, 4_000) }).map((p) => ({ ...p, kind: 'pause' as const, ...(crashAfter ? { crashAfter: true } : {}) }));
}

function isolate(n: number, safetyMs: number): fc.Arbitrary<FaultEvent> {
  return fc.record({ atMs: at(safetyMs), target: target(n), ms: ms(100, 4_000) }).map((i) => ({ ...i, kind: 'isolate' as const }));
}

function partition(n: number, safetyMs: number): fc.Arbitrary<FaultEvent> {
  // Random halves: each node goes left or right.
  return fc.record({ atMs: at(safetyMs), sides: fc.array(fc.boolean(), { minLength: n, maxLength: n }), ms: ms(100, 4_000) }).map((p) => ({
    atMs: p.atMs,
    kind: 'partition' as const,
    sides: [p.sides.flatMap((left, i) => (left ? [i] : [])), p.sides.flatMap((left, i) => (left ? [] : [i]))],
    ms: p.ms,
  }));
}

function oneWay(n: number, safetyMs: number): fc.Arbitrary<FaultEvent> {
  return fc.record({ atMs: at(safetyMs), from: target(n), to: target(n), ms: ms(100, 4_000) }).map((o) => ({ ...o, kind: 'one-way' as const }));
}

function clog(n: number, safetyMs: number): fc.Arbitrary<FaultEvent> {
  return fc.record({ atMs: at(safetyMs), from: target(n), to: target(n), ms: ms(50, 5_000) }).map((c) => ({ ...c, kind: 'clog' as const }));
}

/** The current leader killed, restarted within `restartMsMax`. */
function leaderCrash(safetyMs: number, restartMsMax: number): fc.Arbitrary<FaultEvent> {
  return fc.record({ atMs: at(safetyMs), restartAfterMs: ms(0, restartMsMax) }).map((e) => ({ ...e, kind: 'crash' as const, target: 'leader' as const }));
}

/** The current leader cut off from everyone for `msMin` to `msMax`. */
function leaderIsolation(safetyMs: number, msMin: number, msMax: number): fc.Arbitrary<FaultEvent> {
  return fc.record({ atMs: at(safetyMs), ms: ms(msMin, msMax) }).map((e) => ({ ...e, kind: 'isolate' as const, target: 'leader' as const }));
}

/** Raft system: a voter replaced by a spare node (learner, then promote and remove); keel: a broker decommissioned. */
function membershipChange(safetyMs: number): fc.Arbitrary<FaultEvent> {
  return fc.record({ atMs: at(safetyMs) }).map((m) => ({ ...m, kind: 'membership' as const, action: 'replace-voter' as const }));
}

/** Votes: most grants are followed by a kill. Acks come by the hundred: a few are. */
function crashAfterReply(safetyMs: number): fc.Arbitrary<FaultEvent> {
  return fc.oneof(
    fc.record({ atMs: at(safetyMs), probability: fc.double({ min: 0.3, max: 1, noNaN: true }), ms: ms(1_000, 8_000), restartAfterMsMax: ms(0, 10) }).map((e) => ({ ...e, kind: 'crash-after-reply' as const, replies: 'votes' as const })),
    fc.record({ atMs: at(safetyMs), probability: fc.double({ min: 0.005, max: 0.05, noNaN: true }), ms: ms(500, 4_000), restartAfterMsMax: ms(0, 10) }).map((e) => ({ ...e, kind: 'crash-after-reply' as const, replies: 'acks' as const })),
  );
}

const events = (arb: fc.Arbitrary<FaultEvent>, maxLength: number): fc.Arbitrary<FaultEvent[]> => fc.array(arb, { minLength: 1, maxLength });

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'leader-isolation',
    description: 'a leader (the controller\'s or a partition\'s) is cut off from everyone while clients keep producing to it',
    arbitrary: (t) => base(events(fc.tuple(isolate(3, t), fc.constantFrom<Target>('leader', 'partition-leader')).map(([e, target]) => ({ ...e, target })), 4)),
  },
  {
    name: 'flaky-network',
    description: 'loss, duplication, reordering, delay spikes and small link queues, all run long',
    arbitrary: (t) => fc.tuple(flakyNetwork, events(clog(3, t), 3)).chain(([network, clogs]) => base(fc.constant(clogs), { network })),
  },
  {
    name: 'majority-minority-partition',
    description: 'random halves: a majority side and a minority side, healed and re-split',
    arbitrary: (t) => base(events(partition(3, t), 5)),
  },
  {
    name: 'asymmetric-partition',
    description: 'one-way link cuts: a node hears but is not heard, or the reverse',
    arbitrary: (t) => base(events(oneWay(3, t), 5)),
  },
  {
    name: 'bridge',
    description: 'five nodes in two halves joined only by the middle node',
    arbitrary: (t) => base(events(fc.record({ atMs: at(t), ms: ms(200, 4_000) }).map((b) => ({ ...b, kind: 'bridge' as const })), 3), { nodes: 5, voters: 5 }),
  },
  {
    name: 'majorities-ring',
    description: 'five nodes that each see only their ring neighbours: every node is in a majority, none agree',
    arbitrary: (t) => base(events(fc.record({ atMs: at(t), ms: ms(200, 4_000) }).map((b) => ({ ...b, kind: 'ring' as const })), 3), { nodes: 5, voters: 5 }),
  },
  {
    name: 'crash-restart-loop',
    description: 'nodes and leaders killed and restarted over and over',
    arbitrary: (t) => base(events(crash(3, t), 10), { disk: { ...FAST_DISK, crashKeepsInFlightProbability: 0.5 } }),
  },
  {
    name: 'crash-unsynced-loss',
    description: 'kills timed while writes are in flight; unsynced batches are lost',
    arbitrary: (t) => base(events(crash(3, t, { inFlight: true }), 8), { disk: { ...FAST_DISK, crashKeepsInFlightProbability: 0, writeLatencyMinMs: 1, writeLatencyMeanMs: 3 } }),
  },
  {
    name: 'torn-write',
    description: 'kills during writes; the batch in flight is torn (discarded whole) or kept, at random',
    arbitrary: (t) => crashyDisk.chain((disk) => base(events(crash(3, t, { inFlight: true }), 8), { disk })),
  },
  {
    name: 'disk-corruption',
    description: 'latent corruption of a stored record on a minority replica, found at restart by checksums',
    arbitrary: (t) => base(fc.tuple(crash(3, t, { corrupt: true }).map((e) => ({ ...e, target: 0 })), fc.array(crash(3, t), { maxLength: 3 })).map(([c, rest]) => [c, ...rest.filter((e) => e.kind !== 'crash' || e.target !== 0)])),
  },
  {
    name: 'disk-wipe',
    description: 'a minority replica restarts on an empty disk (wiped data directory); it must rejoin without its lost votes and acknowledgements counting (keel only: the bare Raft system gets plain crashes)',
    arbitrary: (t) => base(fc.tuple(crash(3, t, { wipe: true }).map((e) => ({ ...e, target: 0 })), fc.array(crash(3, t, { inFlight: true }), { minLength: 1, maxLength: 4 })).map(([c, rest]) => [c, ...rest.filter((e) => e.kind !== 'crash' || e.target !== 0)])),
  },
  {
    name: 'clock-skew',
    description: 'clocks offset by seconds, running up to 5 % fast or slow, and stepping forward',
    arbitrary: (t) => fc.record({ skewMsMax: ms(0, 60_000), driftMax: fc.double({ min: 0, max: 0.05, noNaN: true }) }).chain((clock) =>
      base(events(fc.record({ atMs: at(t), target: target(3), ms: ms(1, 30_000) }).map((j) => ({ ...j, kind: 'clock-jump' as const })), 4), { clock })),
  },
  {
    name: 'pause-gc',
    description: 'process pauses (GC, VM stalls), some followed by a kill',
    arbitrary: (t) => base(events(fc.oneof(pause(3, t, false), pause(3, t, true)), 6)),
  },
  {
    name: 'membership-change-under-faults',
    description: 'voters replaced (learner, promote, remove) while nodes crash and partitions come and go',
    arbitrary: (t) => base(fc.tuple(
      fc.array(membershipChange(t), { minLength: 1, maxLength: 3 }),
      fc.array(fc.oneof(crash(5, t), partition(5, t), isolate(5, t), pause(5, t, false)), { maxLength: 5 }),
    ).map(([m, f]) => [...m, ...f]), { nodes: 5, voters: 3 }),
  },
  {
    name: 'leader-churn',
    description: 'five nodes, lossy links; leaders isolated or killed again and again, replication in small steps (Figure 8 territory)',
    arbitrary: (t) => fc.tuple(
      fc.double({ min: 0.05, max: 0.3, noNaN: true }),
      fc.array(fc.oneof(
        leaderIsolation(t, 300, 2_500),
        leaderCrash(t, 2_000),
        partition(5, t),
      ), { minLength: 5, maxLength: 25 }),
    ).chain(([loss, schedule]) => base(fc.constant(schedule), {
      nodes: 5,
      voters: 5,
      network: { ...CALM_NETWORK, lossProbability: loss, oneWayDelayMeanMs: 5 },
      raft: { entriesPerMessageMax: 1, inflightMessagesMax: 2 },
    })),
  },
  {
    name: 'leader-flap',
    description: 'each new leader killed within milliseconds of taking office, on lossy links with replication in single entries: leaders die with their first entries on a minority (Figure 8)',
    arbitrary: (t) => fc.tuple(
      fc.constantFrom(3, 5),
      fc.double({ min: 0.05, max: 0.4, noNaN: true }),
      fc.array(fc.record({ atMs: at(t), group: fc.constantFrom<'main' | 'partition'>('main', 'partition'), ms: ms(1_000, 8_000), killAfterMsMax: ms(2, 30), restartAfterMsMax: ms(10, 400) }).map((e) => ({ ...e, kind: 'leader-flap' as const })), { minLength: 2, maxLength: 5 }),
    ).chain(([nodes, loss, schedule]) => base(fc.constant(schedule), {
      nodes,
      voters: nodes,
      network: { ...CALM_NETWORK, lossProbability: loss, oneWayDelayMeanMs: 3 },
      raft: { entriesPerMessageMax: 1, inflightMessagesMax: 1, electionTicks: 4, heartbeatTicks: 1 },
    })),
  },
  {
    name: 'figure-8',
    description: 'the sequence of Figure 8 of the Raft paper, played on the controller or a data partition by an adversary that watches the wire: old-term entries carried to a majority by a leader whose own entry never follows, then a successor with a higher last term',
    arbitrary: () => fc.tuple(
      fc.constantFrom(3, 5),
      fc.record({ atMs: ms(300, 2_000), group: fc.constantFrom<'main' | 'partition'>('main', 'partition'), ms: ms(4_000, 9_000), commitWaitMs: ms(5, 60) }).map((e) => ({ ...e, kind: 'figure-8' as const })),
    ).chain(([nodes, event]) => base(fc.constant([event]), {
      nodes,
      voters: nodes,
      network: { ...CALM_NETWORK, oneWayDelayMeanMs: 3 },
      // Single entries, one message in flight: the leader's older entries travel before its own.
      raft: { entriesPerMessageMax: 1, inflightMessagesMax: 1, electionTicks: 4, heartbeatTicks: 1 },
    })),
  },
  {
    name: 'crash-after-reply',
    description: 'nodes killed right after they grant a vote or acknowledge an append, restarted at once, while links drop and split: a reply must not promise what the disk has not got',
    arbitrary: (t) => fc.tuple(
      fc.constantFrom(3, 5),
      fc.record({ lossProbability: fc.double({ min: 0, max: 0.2, noNaN: true }), duplicateProbability: fc.double({ min: 0, max: 0.3, noNaN: true }), oneWayDelayMeanMs: ms(5, 40) }),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      fc.array(crashAfterReply(t), { minLength: 1, maxLength: 4 }),
      // Leaders lost again and again, so there are elections to vote in; and links cut, so some candidates
      // campaign without having heard of the term another one won.
      fc.array(fc.oneof(
        leaderCrash(t, 1_000),
        leaderIsolation(t, 100, 1_500),
        oneWay(5, t),
        partition(5, t),
      ), { minLength: 4, maxLength: 15 }),
    ).chain(([nodes, links, keepsInFlight, replies, cuts]) => base(fc.constant([...replies, ...cuts]), {
      nodes,
      voters: nodes,
      // Restarts quicker than a message's trip: a request sent before the kill may reach the new life.
      network: { ...CALM_NETWORK, ...links },
      disk: { ...FAST_DISK, crashKeepsInFlightProbability: keepsInFlight, writeLatencyMinMs: 0.5, writeLatencyMeanMs: 2, loadLatencyMs: 1 },
      raft: { ...DEFAULT_KNOBS, electionTicks: 4, heartbeatTicks: 1 },
    })),
  },
  {
    name: 'swarm',
    description: 'each seed draws its own fault mix and intensities; some fault kinds are off entirely',
    arbitrary: (t) => fc.record({
      network: fc.oneof(fc.constant(CALM_NETWORK), flakyNetwork),
      disk: crashyDisk,
      kinds: fc.subarray(['crash', 'corrupt', 'wipe', 'pause', 'partition', 'isolate', 'one-way', 'clog', 'crash-after-reply', 'membership'] as const, { minLength: 1 }),
    }).chain(({ network, disk, kinds }) => {
      // 'membership': five nodes of which three vote, and one or two membership changes among the faults.
      const spares = kinds.includes('membership');
      const n = spares ? 5 : 3;
      // 'corrupt': a crash after which a stored record of the node is corrupted; 'wipe': after which it
      // restarts on an empty disk (both only on the fixed minority that may lose data; the bare Raft
      // system gets a plain crash for a wipe).
      const byKind = { crash: crash(n, t, { inFlight: true }), corrupt: crash(n, t, { corrupt: true }), wipe: crash(n, t, { wipe: true }), pause: fc.oneof(pause(n, t, false), pause(n, t, true)), partition: partition(n, t), isolate: isolate(n, t), 'one-way': oneWay(n, t), clog: clog(n, t), 'crash-after-reply': crashAfterReply(t) };
      const faultKinds = kinds.filter((k) => k !== 'membership');
      const faults = faultKinds.length === 0 ? fc.constant([]) : fc.array(fc.oneof(...faultKinds.map((k) => byKind[k])), { minLength: 1, maxLength: 10 });
      const changes = spares ? fc.array(membershipChange(t), { minLength: 1, maxLength: 2 }) : fc.constant([]);
      return base(fc.tuple(faults, changes).map(([f, c]) => [...f, ...c]), { network, disk, ...(spares ? { nodes: n, voters: 3 } : {}) });
    }),
  },
];

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
