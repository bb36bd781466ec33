// One simulation run of the whole system: real KeelNodes (controller quorum and, per partition, a Raft
// group) on simulated ports; admin clients; the Raft checkers on every group, the metadata checker, and
// at the end the linearizability check of the admin history.
import type { ControllerPlantedBugs } from '../broker/controller-service.ts';
import { defaultNodeConfig } from '../broker/keel-node.ts';
import type { RaftTuning } from '../broker/node-host.ts';
import { CONTROLLER_GROUP } from '../broker/ports.ts';
import type { PlantedBugs } from '../raft/config.ts';
import { nodeId, type NodeId } from '../raft/types.ts';
import { KeelApp } from './apps/keel-app.ts';
import { MetadataChecker } from './checkers/metadata-checker.ts';
import { RaftChecker, type Violation } from './checkers/raft-checker.ts';
import { applyFault, groupTarget, type FaultContext, type GroupTarget } from './faults.ts';
import { CALM_NETWORK } from './network.ts';
import { healWorld, runUntilConverged } from './phases.ts';
import type { RunResult, RunSpecBase } from './raft-run.ts';
import { World } from './world.ts';
import { MetadataWorkload } from './workload/metadata-workload.ts';
import { PartitionChecker, type ReplicaLog } from './checkers/partition-checker.ts';
import { PartitionWorkload, type DataTopic } from './workload/partition-workload.ts';
import type { PartitionPlantedBugs } from '../broker/partition/partition-machine.ts';
import type { NodePlantedBugs } from '../broker/disk-identity.ts';
import type { Command } from '../controller/commands.ts';
import type { MetadataState } from '../controller/metadata.ts';
import { MemberChecker } from './checkers/member-checker.ts';
import { MemberWorkload } from './workload/member-workload.ts';

/** The whole system's runs: brokers beyond `voters` follow the metadata log as controller learners. */
export interface KeelRunSpec extends RunSpecBase {
  readonly raftKnobs: RaftTuning;
  readonly plantedBugs: PlantedBugs & ControllerPlantedBugs & PartitionPlantedBugs & NodePlantedBugs;
  /** Topics the data workload writes to (created at setup). */
  readonly dataTopics: readonly DataTopic[];
  readonly producers: number;
  /** Reader sessions commit their progress as consumer groups about this often (0: never). */
  readonly groupCommitEveryMs: number;
}

/** Data topic settings: d1 keeps only ~512 bytes (about 20 small records, fewer than the 5 batches per producer that dedup remembers), so retention trims (and snapshots) all the time. */
const DATA_TOPIC_CONFIGS: Readonly<Record<string, Readonly<Record<string, number>>>> = { d1: { 'retention.bytes': 512 } };

const LIVENESS_BOUND_MS = 8_000;
/** How long the groups of a replaced disk may be electing again after it rejoined. */
const REJOIN_ELECTION_MS = 2_000;
/** A healthy cluster elects, registers and creates the data topics well within this. */
const SETUP_BOUND_MS = 10_000;
/** The consumer group whose members share the first data topic (member-workload.ts). */
const MEMBER_GROUP = 'members';
/** A member session (10 s) and a few heartbeats. */
const MEMBER_HANDOVER_BOUND_MS = 15_000;

function setupFailed(spec: KeelRunSpec, w: World, started: number): RunResult {
  const v: Violation = { checker: 'liveness', message: `setup: the cluster did not come up and create the data topics within ${SETUP_BOUND_MS} ms (no faults yet)`, atMs: w.now };
  return { seed: spec.seed, scenario: spec.scenario, ok: false, violations: [v], traceHash: w.trace.hash(), simulatedMs: Math.round(w.now), wallMs: Math.round(performance.now() - started), events: w.sched.executed, stats: {} };
}

export function runKeel(spec: KeelRunSpec): RunResult {
  const started = performance.now();
  const ids = Array.from({ length: spec.nodes }, (_, k) => nodeId(k + 1));
  const voters = ids.slice(0, spec.voters);
  // The checkers need the clock of a world that is built after them.
  const clock = { world: undefined as World | undefined };
  const now = (): number => clock.world?.now ?? 0;
  const raftChecker = new RaftChecker(now);
  const metaChecker = new MetadataChecker(now);
  const partChecker = new PartitionChecker(now, (v) => v.startsWith('i'));
  const memberChecker = new MemberChecker(now);
  const observer = {
    recovered: raftChecker.recovered.bind(raftChecker),
    persisted: raftChecker.persisted.bind(raftChecker),
    applied: raftChecker.applied.bind(raftChecker),
    restored: raftChecker.restored.bind(raftChecker),
    raftState: raftChecker.raftState.bind(raftChecker),
    metadataChanged: (node: NodeId, version: number, digest: number, m: MetadataState, c: Command) => {
      metaChecker.metadataChanged(node, version, digest, m, c);
      if (c.type === 'leave-group' && c.consumerGroup === MEMBER_GROUP) memberChecker.removed(c.memberId);
    },
    repaired: () => {
      replicasRepaired++;
    },
    admitted: (_node: NodeId, fenced: boolean) => {
      if (fenced) lastFencedAdmissionMs = now();
    },
  };
  // A replaced disk rejoins once every peer has answered, possibly after the heal; its groups then elect
  // again (their leaders may count its lost acknowledgements), so the admin liveness bound starts once
  // that election had time to end (a deposed leader's successor waits up to two election timeouts).
  let lastFencedAdmissionMs = Number.NEGATIVE_INFINITY;
  /** Replicas that found their stored state corrupt and rejoined empty. */
  let replicasRepaired = 0;
  const w: World = new World(
    { seed: spec.seed, nodeIds: ids, network: spec.network, disk: spec.disk, clock: spec.clock, keepTraceLines: spec.keepTraceLines },
    (id, ports, onFatal) => {
      const base = defaultNodeConfig(id, ids, `sim-${id}:9092`);
      return new KeelApp({
        ...base,
        controllerVoters: voters,
        raft: { ...spec.raftKnobs, plantedBugs: spec.plantedBugs },
        replica: { ...base.replica, snapshotEveryEntries: 200, entriesKeptAfterSnapshot: 50, requestTimeoutTicks: 60 },
        controller: { ...base.controller, plantedBugs: spec.plantedBugs },
        partitionBugs: spec.plantedBugs,
        nodeBugs: spec.plantedBugs,
      }, ports, onFatal, observer);
    },
  );
  clock.world = w;
  w.onNodeError = (id, err) => raftChecker.fail('assertion', `node ${id}: ${(err as Error).message}`);
  const node = (id: NodeId): KeelApp | undefined => (w.proc(id).app as KeelApp | null) ?? undefined;
  const controllerLeader = (): NodeId | undefined => ids.find((id) => w.proc(id).up && node(id)?.node.controller.isLeader() === true);
  w.describeNode = (id) => {
    const r = node(id)?.node.host.replica(CONTROLLER_GROUP)?.raw.raft;
    const m = node(id)?.node.metadata;
    return r === undefined ? '' : `${r.role.slice(0, 6)} t${r.term} c${r.log.committed} v${m?.version ?? 0}`;
  };

  let healed = false;
  const faults: FaultContext = {
    world: w,
    mainTarget: () => groupTarget(CONTROLLER_GROUP, controllerLeader(), (l) => node(l)?.node.host.replica(CONTROLLER_GROUP)?.confState.voters),
    partitionTarget: () => {
      const led: GroupTarget[] = [];
      for (const id of ids) {
        if (!w.proc(id).up) continue;
        for (const [g, r] of node(id)?.node.host.driver.replicas ?? []) if (g !== CONTROLLER_GROUP && r.isLeader) led.push({ group: g, leader: id, voters: r.confState.voters });
      }
      return led.length === 0 ? undefined : w.rngs.faults.pick(led);
    },
    corruptible: new Set(ids.slice(0, Math.max(0, Math.floor((spec.voters - 1) / 2)))),
    corrupt: (id) => w.proc(id).disk.corrupt((k) => k.startsWith('g/')),
    wipe: (id) => w.proc(id).disk.wipe(),
    membership: () => decommissionDuringFaults(w, ids, node),
    baseNetwork: spec.network,
    active: () => !healed,
  };
  const admin = new MetadataWorkload(w, { clients: 3, topicNames: ['orders', 'payments', 'audit', 'clicks'], attemptTimeoutMs: 2_000, attemptsMax: 4, thinkTimeMs: 150, linkDelayMs: 0.5 });

  const data = new PartitionWorkload(w, partChecker, { topics: spec.dataTopics, producers: spec.producers, readers: 2, attemptTimeoutMs: 2_000, thinkTimeMs: 40, linkDelayMs: 0.5, commitEveryMs: spec.groupCommitEveryMs });
  const members = new MemberWorkload(w, memberChecker, { group: MEMBER_GROUP, topic: spec.dataTopics[0] as DataTopic, members: 3, attemptTimeoutMs: 2_000, linkDelayMs: 0.5 });
  for (const id of ids) w.start(id);
  // Setup before any fault (as Jepsen does), on a calm network: the cluster comes up and the data topics
  // exist. The scenario's network behaviour starts with the faults.
  w.network.options = CALM_NETWORK;
  let ready = false;
  createDataTopics(w, ids, node, spec.dataTopics, Math.min(3, spec.nodes), () => { ready = true; });
  runUntilConverged(w, SETUP_BOUND_MS, () => ready);
  if (!ready) return setupFailed(spec, w, started);
  const t0 = w.now;
  w.network.options = spec.network;
  w.timeline(0, `SETUP done: data topics exist; faults start now (schedule times are from here)`);
  admin.start();
  data.start();
  members.start();
  for (const f of spec.schedule) if (f.atMs < spec.safetyMs) w.sched.at(t0 + f.atMs, () => applyFault(faults, f));
  const failed = (): boolean => raftChecker.violations.length > 0 || metaChecker.violations.length > 0 || partChecker.violations.length > 0 || memberChecker.violations.length > 0;
  w.sched.runUntil(t0 + spec.safetyMs, failed);

  let healStart = Number.POSITIVE_INFINITY;
  if (!failed()) {
    healed = true;
    healWorld(w);
    healStart = w.now;
    data.healPhaseStarted();
    members.healPhaseStarted();
    w.sched.runUntil(t0 + spec.safetyMs + spec.healMs, failed);
  }
  const all = (): Violation[] => [...raftChecker.violations, ...metaChecker.violations, ...partChecker.violations, ...memberChecker.violations];
  const violations: Violation[] = all();
  if (violations.length === 0) {
    const bound = Math.min(LIVENESS_BOUND_MS, spec.healMs);
    violations.push(...admin.livenessViolations(Math.max(healStart, lastFencedAdmissionMs + REJOIN_ELECTION_MS), bound), ...data.livenessViolations(bound));
  }
  // A member silent through the faults is removed only a session after the coordinator last heard it, and
  // its partitions then change hands: within a session and a few heartbeats every partition is read again.
  if (violations.length === 0 && !runUntilConverged(w, MEMBER_HANDOVER_BOUND_MS, () => members.unheld().length === 0)) {
    violations.push({ checker: 'liveness', message: `partitions ${members.unheld().join(',')} of ${spec.dataTopics[0]?.name} held by no member of group ${MEMBER_GROUP} ${MEMBER_HANDOVER_BOUND_MS} ms after the heal phase`, atMs: w.now });
  }
  if (violations.length === 0) {
    admin.stopIssuing();
    data.stopIssuing();
    members.stopIssuing();
    // Let outstanding requests finish (idempotent producers retry until their batch lands).
    runUntilConverged(w, 10_000, () => admin.history.every((o) => o.status === 'done') && data.outstanding === 0);
    if (data.outstanding > 0) violations.push({ checker: 'liveness', message: `${data.outstanding} produce requests still unanswered 10 s after the workload stopped`, atMs: w.now });
    if (!runUntilConverged(w, 10_000, () => laggingGroups(w, ids, node).length === 0)) {
      violations.push({ checker: 'liveness', message: `10 s after the workload stopped, groups not caught up: ${laggingGroups(w, ids, node).join('; ')}`, atMs: w.now });
    }
    violations.push(...admin.linearizabilityViolations());
    partChecker.finalLogs(finalLogs(w, ids, node));
    violations.push(...all());
  }

  let crashes = 0;
  let writes = 0;
  let writesPerTurnMax = 0;
  for (const id of ids) {
    crashes += w.proc(id).crashes;
    const d = node(id)?.node.host.driver.stats;
    if (d !== undefined) {
      writes += d.writes;
      writesPerTurnMax = Math.max(writesPerTurnMax, d.writesPerTurnMax);
    }
  }
  const c = admin.counts();
  return {
    seed: spec.seed,
    scenario: spec.scenario,
    ok: violations.length === 0,
    violations,
    traceHash: w.trace.hash(),
    simulatedMs: Math.round(w.now),
    wallMs: Math.round(performance.now() - started),
    events: w.sched.executed,
    stats: {
      adminOps: c.ops,
      adminKnown: c.known,
      adminUnknown: c.unknown,
      adminRejected: c.rejected,
      produceBatches: data.counts.batches,
      producedRecordsAcked: data.counts.records,
      fetches: partChecker.reads,
      recordsRead: partChecker.recordsRead,
      groupCommitsAcked: partChecker.groups.commits,
      groupOffsetReads: partChecker.groups.reads,
      groupResetsAcked: partChecker.groups.resets,
      groupDeletionsAcked: partChecker.groups.deletions,
      replicasRepaired,
      memberGrants: memberChecker.grants,
      memberCommitsAcked: memberChecker.commitsAcked,
      memberCommitsFenced: memberChecker.commitsFenced,
      membersVanished: members.counts.vanished,
      membersStalled: members.counts.stalled,
      metadataChanges: metaChecker.changes,
      metadataVersion: metaChecker.maxVersion,
      checkerMs: Math.round(admin.checkerMs),
      checkerSteps: admin.checkerSteps,
      crashes,
      framesSent: w.network.stats.sent,
      storageWrites: writes,
      writesPerTurnMax,
    },
    ...(w.trace.lines !== null ? { trace: w.trace.lines } : {}),
  };
}

/** Creates the data topics (retrying until they exist), then calls `then`. */
function createDataTopics(w: World, ids: readonly NodeId[], node: (id: NodeId) => KeelApp | undefined, topics: readonly DataTopic[], rf: number, then: () => void): void {
  let left = topics.length;
  if (left === 0) return then();
  const create = (t: DataTopic, attempt: number): void => {
    const up = ids.filter((id) => w.proc(id).up);
    const via = node(w.rngs.workload.pick(up.length > 0 ? up : ids));
    const retry = (): void => w.sched.after(200, () => create(t, attempt + 1));
    if (via === undefined) return retry();
    via.node.createTopic({ requestId: `setup-${t.name}-${attempt}`, name: t.name, partitions: t.partitions, replicationFactor: rf, configs: DATA_TOPIC_CONFIGS[t.name] ?? {} }, (r) => {
      if (r.ok || r.error.code === 'TOPIC_ALREADY_EXISTS') {
        if (--left === 0) then();
      } else retry();
    });
  };
  topics.forEach((t) => create(t, 1));
}

/**
 * Groups of the cluster as it is now (the controller's and every partition in the metadata of the node
 * hosting it) that have no leader, or a live voter that has not applied what its leader committed; one
 * description each. Replicas of deleted partitions waiting to be dropped are not counted.
 */
function laggingGroups(w: World, ids: readonly NodeId[], node: (id: NodeId) => KeelApp | undefined): string[] {
  const commit = new Map<number, number>();
  for (const id of ids) {
    if (!w.proc(id).up) continue;
    for (const [g, r] of node(id)?.node.host.driver.replicas ?? []) if (r.isLeader) commit.set(g, r.raw.raft.log.committed);
  }
  const lagging: string[] = [];
  for (const id of ids) {
    const n = node(id)?.node;
    if (n === undefined || !w.proc(id).up) continue;
    for (const [g, r] of n.host.driver.replicas) {
      if (g !== CONTROLLER_GROUP && !n.metadata.partitions.has(g)) continue;
      const c = commit.get(g);
      if (c === undefined) lagging.push(`group ${g} has no leader (node ${id} hosts it)`);
      // A replica that knows no voters yet (a new one, or one that rejoined empty after corruption) must catch up too.
      else if (r.appliedIndex < c && (r.confState.voters.includes(id) || r.confState.voters.length === 0)) lagging.push(`group ${g}: node ${id} applied ${r.appliedIndex} of ${c}`);
    }
  }
  return [...new Set(lagging)];
}

/** Each live replica's log of each data partition, as the checker reads it. */
function finalLogs(w: World, ids: readonly NodeId[], node: (id: NodeId) => KeelApp | undefined): ReplicaLog[] {
  const out: ReplicaLog[] = [];
  const decoder = new TextDecoder();
  for (const id of ids) {
    const n = node(id)?.node;
    if (n === undefined || !w.proc(id).up) continue;
    for (const t of n.metadata.topics.values()) {
      t.groups.forEach((g, partition) => {
        const m = n.partitionMachine(g);
        const r = n.host.replica(g);
        if (m === undefined || r === undefined) return;
        const records = m.read(m.logStartOffset, Number.MAX_SAFE_INTEGER).records.map((x) => ({ offset: x.offset, value: x.value === null ? '' : decoder.decode(x.value) }));
        const state = JSON.stringify({ nextOffset: m.nextOffset, producers: m.producers.toJSON() });
        out.push({ node: id, topicPartition: `${t.name}/${partition}`, logStartOffset: m.logStartOffset, records, appliedIndex: r.appliedIndex, state });
      });
    }
  }
  return out;
}

/** Decommission a random broker (scenario: decommission during a partition). */
function decommissionDuringFaults(w: World, ids: readonly NodeId[], node: (id: NodeId) => KeelApp | undefined): void {
  const up = ids.filter((id) => w.proc(id).up);
  if (up.length === 0) return;
  const via = node(w.rngs.faults.pick(up));
  const victim = w.rngs.faults.pick(ids);
  via?.node.decommissionBroker({ requestId: `decommission-${victim}-${Math.round(w.now)}`, broker: victim }, (r) => {
    w.timeline(0, `decommission broker ${victim}: ${r.ok ? 'ok' : r.error.code}`);
  });
}
