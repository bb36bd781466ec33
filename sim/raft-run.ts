// One Raft-level simulation run: the register group on real node code, a client workload, the Raft
// checkers, a fault schedule in the safety phase, then a heal phase in which the cluster must recover
// (liveness), and final durability checks once it has converged.
import type { RaftTuning } from '../broker/node-host.ts';
import type { Replica, ReplicaOptions } from '../broker/replica.ts';
import type { PlantedBugs } from '../raft/config.ts';
import { nodeId, type ConfChange, type ConfState, type NodeId } from '../raft/types.ts';
import { REGISTER_GROUP, RaftApp } from './apps/raft-app.ts';
import type { AppliedPayloads } from './apps/register-machine.ts';
import { RaftChecker, type Violation } from './checkers/raft-checker.ts';
import type { DiskOptions } from './disk.ts';
import { applyFault, groupTarget, type FaultContext, type FaultSchedule } from './faults.ts';
import type { NetworkOptions } from './network.ts';
import { healWorld, runUntilConverged } from './phases.ts';
import { World, type ClockOptions } from './world.ts';
import { RaftWorkload, type ClientOptions } from './workload/raft-workload.ts';

/** What every simulation run is given, whatever runs in its world. */
export interface RunSpecBase {
  readonly seed: number;
  readonly scenario: string;
  readonly nodes: number;
  /** The first nodes that vote from the start (the register group's, or the controller quorum). */
  readonly voters: number;
  readonly network: NetworkOptions;
  readonly disk: DiskOptions;
  readonly clock: ClockOptions;
  readonly schedule: FaultSchedule;
  readonly safetyMs: number;
  readonly healMs: number;
  readonly keepTraceLines: boolean;
}

/** The register group's runs: nodes beyond `voters` join through membership changes. */
export interface RaftRunSpec extends RunSpecBase {
  readonly tickMs: number;
  readonly clients: ClientOptions;
  readonly raft: RaftTuning;
  readonly replica: Partial<ReplicaOptions>;
  readonly plantedBugs: PlantedBugs;
}

export interface RunResult {
  readonly seed: number;
  readonly scenario: string;
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  readonly traceHash: string;
  readonly simulatedMs: number;
  readonly wallMs: number;
  readonly events: number;
  readonly stats: Record<string, number>;
  readonly trace?: readonly string[];
}

/** How long after the heal the cluster has to commit again. */
const LIVENESS_BOUND_MS = 8_000;

export function runRaft(spec: RaftRunSpec): RunResult {
  const started = performance.now();
  const ids = Array.from({ length: spec.nodes }, (_, k) => nodeId(k + 1));
  const voters = ids.slice(0, spec.voters);
  const checker = new RaftChecker(() => world.sched.now);
  const world: World = new World(
    { seed: spec.seed, nodeIds: ids, network: spec.network, disk: spec.disk, clock: spec.clock, keepTraceLines: spec.keepTraceLines },
    (id, ports, onFatal) => new RaftApp(id, ports, onFatal, checker, {
      tickMs: spec.tickMs,
      voters,
      raft: { ...spec.raft, plantedBugs: spec.plantedBugs },
      replica: spec.replica,
    }),
  );
  world.onNodeError = (id, err) => checker.fail('assertion', `node ${id}: ${(err as Error).message}`);
  const app = (id: NodeId): RaftApp | undefined => (world.proc(id).app as RaftApp | null) ?? undefined;
  world.describeNode = (id) => {
    const r = app(id)?.host.replica(REGISTER_GROUP)?.raw.raft;
    return r === undefined ? '' : `${r.role.slice(0, 6)} t${r.term} c${r.log.committed}`;
  };
  const leader = (): NodeId | undefined => ids.find((id) => world.proc(id).up && app(id)?.host.replica(REGISTER_GROUP)?.isLeader === true);

  let healed = false;
  const faults: FaultContext = {
    world,
    mainTarget: () => groupTarget(REGISTER_GROUP, leader(), (l) => app(l)?.host.replica(REGISTER_GROUP)?.confState.voters),
    corruptible: new Set(ids.slice(0, Math.max(0, Math.floor((spec.voters - 1) / 2)))),
    corrupt: (id) => world.proc(id).disk.corrupt((k) => k.startsWith('g/')),
    membership: () => replaceVoter(world, ids, leader, app),
    baseNetwork: spec.network,
    active: () => !healed,
  };
  const workload = new RaftWorkload(world, spec.clients);

  for (const id of ids) world.start(id);
  workload.start();
  for (const f of spec.schedule) if (f.atMs < spec.safetyMs) world.sched.at(f.atMs, () => applyFault(faults, f));
  const stopEarly = (): boolean => checker.violations.length > 0;
  world.sched.runUntil(spec.safetyMs, stopEarly);

  // Heal: every node up, network healed and calm, faults off.
  if (checker.violations.length === 0) {
    healed = true;
    healWorld(world);
    workload.healPhaseStarted();
    world.sched.runUntil(spec.safetyMs + spec.healMs, stopEarly);
  }
  const violations: Violation[] = [...checker.violations];
  if (violations.length === 0) violations.push(...workload.livenessViolations(Math.min(LIVENESS_BOUND_MS, spec.healMs)));
  if (violations.length === 0) {
    workload.stopIssuing();
    settle(world, ids, app, 5_000);
    const machines = new Map<NodeId, AppliedPayloads>();
    const final = finalMembers(ids, app);
    for (const id of ids) {
      const m = app(id)?.machine();
      if (m !== undefined && final.has(id)) machines.set(id, m);
    }
    violations.push(...workload.durabilityViolations(machines));
    violations.push(...checker.violations);
  }

  const counts = workload.counts();
  let writes = 0;
  let writesPerTurnMax = 0;
  let crashes = 0;
  for (const id of ids) {
    const p = world.proc(id);
    crashes += p.crashes;
    const h = app(id)?.host;
    if (h !== undefined) {
      writes += h.driver.stats.writes;
      writesPerTurnMax = Math.max(writesPerTurnMax, h.driver.stats.writesPerTurnMax);
    }
  }
  return {
    seed: spec.seed,
    scenario: spec.scenario,
    ok: violations.length === 0,
    violations,
    traceHash: world.trace.hash(),
    simulatedMs: Math.round(world.now),
    wallMs: Math.round(performance.now() - started),
    events: world.sched.executed,
    stats: {
      proposalsOk: counts.ok,
      proposalsFailed: counts.fail,
      proposalsUnknown: counts.unknown,
      applied: checker.appliedCount.get(REGISTER_GROUP) ?? 0,
      elections: checker.leaderCount(REGISTER_GROUP),
      crashes,
      framesSent: world.network.stats.sent,
      framesDropped: world.network.stats.dropped,
      storageWrites: writes,
      writesPerTurnMax,
    },
    ...(world.trace.lines !== null ? { trace: world.trace.lines } : {}),
  };
}

/** Runs until every live member has applied everything committed (or the bound passes). */
function settle(world: World, ids: readonly NodeId[], app: (id: NodeId) => RaftApp | undefined, boundMs: number): void {
  runUntilConverged(world, boundMs, () => {
    let commit = -1;
    for (const id of ids) {
      const r = app(id)?.host.replica(REGISTER_GROUP);
      if (r === undefined) continue;
      if (r.isLeader) commit = r.raw.raft.log.committed;
    }
    if (commit < 0) return false;
    return ids.every((id) => {
      const r = app(id)?.host.replica(REGISTER_GROUP);
      return r === undefined || r.raw.raft.lead === 0 || r.appliedIndex >= commit || r.raw.status().config.voters.length === 0;
    });
  });
}

/**
 * The group's members as its most advanced replica applied them. Not what the membership changes' proposers
 * heard: a change whose proposer crashed may still be committed by the next leader.
 */
function finalMembers(ids: readonly NodeId[], app: (id: NodeId) => RaftApp | undefined): Set<NodeId> {
  let newest: Replica | undefined;
  for (const id of ids) {
    const r = app(id)?.host.replica(REGISTER_GROUP);
    if (r !== undefined && (newest === undefined || r.appliedIndex > newest.appliedIndex)) newest = r;
  }
  return newest === undefined ? new Set() : membersOf(newest.confState);
}

/** Every node a configuration replicates to, joint or not. */
function membersOf(c: ConfState): Set<NodeId> {
  return new Set([...c.voters, ...c.learners, ...c.votersOutgoing, ...c.learnersNext]);
}

/**
 * Replaces one voter of the register group by a node outside it, the way reassignment does: the new
 * node joins as a learner, is promoted, then the old voter is removed, all through the leader.
 */
function replaceVoter(world: World, ids: readonly NodeId[], leader: () => NodeId | undefined, app: (id: NodeId) => RaftApp | undefined): void {
  const lead = leader();
  if (lead === undefined) return;
  const leaderApp = app(lead);
  // The configuration the leader applied: a change whose proposer crashed may have been committed since.
  const conf = leaderApp?.host.replica(REGISTER_GROUP)?.confState;
  if (leaderApp === undefined || conf === undefined) return;
  const members = membersOf(conf);
  const outside = ids.filter((id) => !members.has(id) && world.proc(id).up);
  const removable = conf.voters.filter((id) => id !== lead);
  if (outside.length === 0 || removable.length === 0) return;
  const rng = world.rngs.faults;
  const add = rng.pick(outside);
  const remove = rng.pick(removable);
  const newApp = app(add);
  if (newApp === undefined) return;
  if (newApp.host.replica(REGISTER_GROUP) === undefined) newApp.host.joinGroup(REGISTER_GROUP);
  const change = (cc: ConfChange, then?: () => void): void => {
    const l = leader();
    const a = l === undefined ? undefined : app(l);
    if (a === undefined) return;
    a.proposeConfChange(cc, (o) => { if (o.ok) then?.(); });
  };
  change({ transition: 'auto', changes: [{ type: 'addLearner', nodeId: add }], context: 'learner' }, () => {
    world.sched.after(500, () => change({ transition: 'auto', changes: [{ type: 'addNode', nodeId: add }, { type: 'removeNode', nodeId: remove }], context: 'swap' }));
  });
}
