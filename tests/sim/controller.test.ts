// The controller in the simulator: its checkers catch the anomalies they name, and a planted controller
// bug (reads served from a stale local image as if linearizable) is caught within 300 seeds.
import { describe, expect, it } from 'vitest';
import type { Command } from '../../controller/commands.ts';
import { MetadataState } from '../../controller/metadata.ts';
import type { NodeId } from '../../raft/types.ts';
import { MetadataChecker } from '../../sim/checkers/metadata-checker.ts';
import { firstCaught } from './first-caught.ts';

const n = (x: number): NodeId => x as NodeId;

function cluster(brokers: number): MetadataState {
  const m = new MetadataState();
  for (let b = 1; b <= brokers; b++) {
    const r = m.applyCommand({ type: 'register-broker', broker: n(b), address: `h${b}`, incarnation: 1 });
    const epoch = (r as { value: { epoch: number } }).value.epoch;
    m.applyCommand({ type: 'unfence-broker', broker: n(b), epoch });
  }
  return m;
}

describe('metadata checker', () => {
  it('one history: the same version with different histories on two nodes', () => {
    const c = new MetadataChecker(() => 0);
    const cmd: Command = { type: 'init-producer-id', requestId: 'x' };
    c.metadataChanged(n(1), 7, 111, cluster(3), cmd);
    c.metadataChanged(n(2), 7, 111, cluster(3), cmd);
    expect(c.violations).toEqual([]);
    c.metadataChanged(n(3), 7, 222, cluster(3), cmd);
    expect(c.violations.map((v) => v.checker)).toEqual(['metadata-one-history']);
  });

  it('fencing: a new partition placed on a fenced broker', () => {
    const m = cluster(3);
    m.applyCommand({ type: 'create-topic', requestId: 'r', name: 't', partitions: 3, replicationFactor: 3, configs: {} });
    const b = m.brokers.get(n(2));
    if (b !== undefined) b.fenced = true; // as if placement had ignored fencing
    const c = new MetadataChecker(() => 0);
    c.metadataChanged(n(1), m.version, m.digest, m, { type: 'create-topic', requestId: 'r', name: 't', partitions: 3, replicationFactor: 3, configs: {} });
    expect(c.violations.map((v) => v.checker)).toContain('fenced-assignment');
  });

  it('fencing: partitions added to a topic placed on a fenced broker; the topic\'s older partitions there are not new', () => {
    const m = cluster(3);
    const create: Command = { type: 'create-topic', requestId: 'r', name: 't', partitions: 2, replicationFactor: 3, configs: {} };
    m.applyCommand(create);
    const c = new MetadataChecker(() => 0);
    c.metadataChanged(n(1), m.version, m.digest, m, create);
    const add: Command = { type: 'add-partitions', requestId: 'a', name: 't', partitions: 3 };
    m.applyCommand(add);
    // As if placement had ignored fencing: broker 2 holds a replica of every partition, but only the
    // replica of partition 2 was placed by this change.
    const b = m.brokers.get(n(2));
    if (b !== undefined) b.fenced = true;
    c.metadataChanged(n(1), m.version, m.digest, m, add);
    expect(c.violations.map((v) => v.message)).toEqual([expect.stringMatching(/new partition t\/2 placed a replica on broker 2, which is fenced/)]);
  });

  it('placement: a new topic that widens the replica-count spread beyond one; not a restarted node replaying its log', () => {
    const create = (name: string, partitions: number): Command => ({ type: 'create-topic', requestId: name, name, partitions, replicationFactor: 1, configs: {} });
    const m = cluster(3);
    m.applyCommand(create('t', 3));
    const c = new MetadataChecker(() => 0);
    c.metadataChanged(n(1), m.version, m.digest, m, create('t', 3));
    const balanced = m.version;
    // Placement put u's two partitions on two brokers (2,2,1); as if it had put both on the same one (3,1,1).
    m.applyCommand(create('u', 2));
    const [first, second] = [...m.partitions.values()].filter((p) => p.topic === 'u');
    if (first !== undefined && second !== undefined) second.replicas = [...first.replicas];
    c.metadataChanged(n(1), m.version, m.digest, m, create('u', 2));
    expect(c.violations.map((v) => v.message)).toEqual([expect.stringMatching(/creating u widened the replica-count spread from 0 to 2/)]);
    // Node 2 applied far ahead, restarted and replays u's creation: its last change is not u's predecessor,
    // so the spread it saw then says nothing about this change (scenarios/seeds/crash-unsynced-loss-360187).
    const d = new MetadataChecker(() => 0);
    d.metadataChanged(n(2), balanced + 10, m.digest, cluster(3), { type: 'init-producer-id', requestId: 'z' });
    d.metadataChanged(n(2), m.version, m.digest, m, create('u', 2));
    expect(d.violations).toEqual([]);
  });

  it('placement: a broker listed twice in a partition, or the wrong replica count', () => {
    const m = cluster(3);
    m.applyCommand({ type: 'create-topic', requestId: 'r', name: 't', partitions: 1, replicationFactor: 2, configs: {} });
    const p = [...m.partitions.values()][0];
    if (p !== undefined) p.replicas = [n(1), n(1)];
    const c = new MetadataChecker(() => 0);
    c.metadataChanged(n(1), m.version, m.digest, m, { type: 'init-producer-id', requestId: 'y' });
    expect(c.violations.map((v) => v.checker)).toContain('placement');
  });
});

describe('planted controller bug', () => {
  it('a "linearizable" read served from the local image is caught within 300 seeds (--scenario all)', () => {
    // Without group commits, whose checker would catch the stale reads first (the next test).
    const found = firstCaught({ plantedBugs: { staleLinearizableReads: true }, groupCommits: false }, 300);
    expect(found?.checker).toMatch(/linearizability/);
  }, 120_000);

  it('committed group offsets read from a stale local image are caught as offsets going back within 100 seeds', () => {
    const found = firstCaught({ plantedBugs: { staleLinearizableReads: true } }, 100, undefined, /^offsets-went-back: /);
    expect(found?.message).toMatch(/a (read|group description) returned (offset \d+|no offset), but a commit of \d+ was acknowledged/);
  }, 120_000);
});
