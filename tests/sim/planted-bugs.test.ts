// A checker that cannot fail is a defect. Each planted Raft bug (behind a test-only switch, see
// raft/config.ts PlantedBugs) must be caught by a seed sweep within 200 seeds.
import { describe, expect, it } from 'vitest';
import type { PlantedBugs } from '../../raft/config.ts';
import { SCENARIOS, scenarioByName, type Scenario } from '../../scenarios/catalog.ts';
import { firstCaught, type Caught } from './first-caught.ts';

/** The first seed in [1, 200] that catches `bug` (see firstCaught). */
function firstFailure(bug: PlantedBugs, scenarios: readonly Scenario[], caughtBy?: RegExp): Caught | undefined {
  return firstCaught({ plantedBugs: bug }, 200, scenarios, caughtBy);
}

describe('planted bugs are caught within 200 seeds', () => {
  it('a vote granted without the §5.4.1 log check (PITFALLS 2): --scenario all', () => {
    const found = firstFailure({ grantVoteWithoutLogCheck: true }, SCENARIOS);
    expect(found, 'not caught in 200 seeds').toBeDefined();
    expect(found?.what).toMatch(/leader-completeness|state-machine-safety|lost-write|log-matching/);
  }, 120_000);

  it('an old-term entry committed by counting replicas (PITFALLS 1, Raft §5.4.2 Figure 8): --scenario figure-8', () => {
    // The adversary lines up the paper's sequence; a leader that counts replicas of its predecessors'
    // entries commits one that the next leader, with a higher last term, then overwrites.
    const found = firstFailure({ commitOldTermByCounting: true }, [scenarioByName('figure-8') as Scenario]);
    expect(found, 'not caught in 200 seeds').toBeDefined();
    expect(found?.what).toMatch(/leader-completeness|state-machine-safety/);
  }, 120_000);

  it('appends acknowledged before they are durable (PITFALLS 4): --scenario all', () => {
    const found = firstFailure({ ackBeforePersist: true }, SCENARIOS);
    expect(found, 'not caught in 200 seeds').toBeDefined();
  }, 120_000);

  it('a vote granted before term and vote are durable (PITFALLS 3): --scenario crash-after-reply', () => {
    // The voter is killed right after its reply and its write is lost; it restarts in the old term and
    // votes again, for the other candidate of the same term.
    const found = firstFailure({ voteBeforePersist: true }, [scenarioByName('crash-after-reply') as Scenario]);
    expect(found, 'not caught in 200 seeds').toBeDefined();
    expect(found?.what).toMatch(/election-safety/);
  }, 120_000);

  it('a matching, stale append truncating the log (PITFALLS 13): --scenario flaky-network', () => {
    const found = firstFailure({ truncateOnMatchingAppend: true }, [scenarioByName('flaky-network') as Scenario]);
    expect(found, 'not caught in 200 seeds').toBeDefined();
  }, 120_000);

  it('append rejections ignored, so a follower that fell behind is never caught up: the check that every group converges after the heal', () => {
    // No safety property breaks and a majority keeps committing: only the convergence check sees it.
    const found = firstFailure({ ignoreAppendRejections: true }, SCENARIOS, /^liveness: .*not caught up/);
    expect(found, 'not caught in 200 seeds').toBeDefined();
  }, 120_000);
});
