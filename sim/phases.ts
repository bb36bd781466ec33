// What every simulation run does between its phases: heal the world (every node up, network healed and
// calm, faults off) and let the cluster converge before the final checks.
import { CALM_NETWORK } from './network.ts';
import type { World } from './world.ts';

/** Ends the fault phase: every fault stops, every node runs again. */
export function healWorld(world: World): void {
  world.timeline(0, 'HEAL: network healed, every node up, faults off');
  world.network.heal();
  world.network.options = CALM_NETWORK;
  for (const id of world.nodeIds) {
    const p = world.proc(id);
    p.disk.options = { ...p.disk.options, fsyncFailureProbability: 0 };
    if (p.paused) world.resume(id);
    if (!p.up) world.start(id);
  }
}

/** Runs the world in 100 ms steps until `converged()` holds or `boundMs` passes; returns whether it converged. */
export function runUntilConverged(world: World, boundMs: number, converged: () => boolean): boolean {
  const until = world.now + boundMs;
  while (world.now < until) {
    if (converged()) return true;
    world.sched.runUntil(world.now + 100);
  }
  return converged();
}
