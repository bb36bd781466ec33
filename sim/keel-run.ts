// One simulation run of the whole system: real KeelNodes (controller quorum and, per partition, a Raft
// group) on simulated ports; admin clients; the Raft checkers on every group, the metadata checker, and
// at the end the linearizability check of the admin history.
import type { ControllerPlantedBugs } from '../broker/controller-service.ts';
import { defaultNodeConfig } from '../broker/keel-node.ts';
import { CONTROLLER_GROUP } from '../broker/ports.ts';
import type { PlantedBugs } from '../raft/config.ts';
import { nodeId, type NodeId } from '../raft/types.ts';
import { KeelApp } from './apps/keel-app.ts';
import { MetadataChecker } from './checkers/metadata-checker.ts';
import { RaftChecker, type Violation } from './checkers/raft-checker.ts';
import type { DiskOptions } from './disk.ts';
import { applyFault, type FaultContext, type FaultSchedule } from './faults.ts';
import type { NetworkOptions } from './network.ts';
import { healWorld, runUntilConverged } from './phases.ts';
import type { RunResult } from './raft-run.ts';
import { World, type ClockOptions } from './world.ts';
import { MetadataWorkload } from './workload/metadata-workload.ts';

export interface KeelRunSpec {
  readonly seed: number;
  readonly scenario: string;
  readonly nodes: number;
  /** Controller voters (the first ones); the other brokers follow the metadata log as learners. */
  readonly voters: number;
  readonly network: NetworkOptions;
  readonly disk: DiskOptions;
  readonly clock: ClockOptions;
  readonly schedule: FaultSchedule;
  readonly safetyMs: number;
  readonly healMs: number;
  readonly raftKnobs: { readonly entriesPerMessageMax: number; readonly inflightMessagesMax: number };
  readonly plantedBugs: PlantedBugs & ControllerPlantedBugs;
  readonly keepTraceLines: boolean;
}

const LIVENESS_BOUND_MS = 8_000;

export function runKeel(spec: KeelRunSpec): RunResult {
  const started = performance.now();
  const ids = Array.from({ length: spec.nodes }, (_, k) => nodeId(k + 1));
  const voters = ids.slice(0, spec.voters);
  // The checkers need the clock of a world that is built after them.
  const clock = { world: undefined as World | undefined };
  const now = (): number => clock.world?.now ?? 0;
  const raftChecker = new RaftChecker(now);
  const metaChecker = new MetadataChecker(now);
  const observer = {
    recovered: raftChecker.recovered.bind(raftChecker),
    persisted: raftChecker.persisted.bind(raftChecker),
    applied: raftChecker.applied.bind(raftChecker),
    restored: raftChecker.restored.bind(raftChecker),
    raftState: raftChecker.raftState.bind(raftChecker),
    metadataChanged: metaChecker.metadataChanged.bind(metaChecker),
  };
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
    leader: controllerLeader,
    corruptible: new Set(ids.slice(0, Math.max(0, Math.floor((spec.voters - 1) / 2)))),
    corrupt: (id) => w.proc(id).disk.corrupt((k) => k.startsWith('g/')),
    membership: () => decommissionDuringFaults(w, ids, node),
    baseNetwork: spec.network,
    active: () => !healed,
  };
  const admin = new MetadataWorkload(w, { clients: 3, topicNames: ['orders', 'payments', 'audit', 'clicks'], attemptTimeoutMs: 2_000, attemptsMax: 4, thinkTimeMs: 150, linkDelayMs: 0.5 });

  for (const id of ids) w.start(id);
  admin.start();
  for (const f of spec.schedule) if (f.atMs < spec.safetyMs) w.sched.at(f.atMs, () => applyFault(faults, f));
  const failed = (): boolean => raftChecker.violations.length > 0 || metaChecker.violations.length > 0;
  w.sched.runUntil(spec.safetyMs, failed);

  let healStart = Number.POSITIVE_INFINITY;
  if (!failed()) {
    healed = true;
    healWorld(w);
    healStart = w.now;
    w.sched.runUntil(spec.safetyMs + spec.healMs, failed);
  }
  const violations: Violation[] = [...raftChecker.violations, ...metaChecker.violations];
  if (violations.length === 0) violations.push(...admin.livenessViolations(healStart, Math.min(LIVENESS_BOUND_MS, spec.healMs)));
  if (violations.length === 0) {
    admin.stopIssuing();
    // Let outstanding requests finish (their attempts time out at most attemptsMax * attemptTimeout).
    runUntilConverged(w, 10_000, () => admin.history.every((o) => o.status === 'done'));
    violations.push(...admin.linearizabilityViolations());
    violations.push(...raftChecker.violations, ...metaChecker.violations);
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
