// `keel group list|describe|reset|delete`: the consumer groups, where one stands in each partition it read
// (its committed offset, the partition's log end, the lag between them, and the member reading it), and
// an operator's moves: resetting a group's offsets of a topic (a plan unless --execute, as Kafka's
// kafka-consumer-groups --reset-offsets) and deleting a group.
import type { Command } from 'commander';
import type { GroupMemberInfo } from '../net/client/calls.ts';
import type { KeelClient } from '../net/client/keel-client.ts';
import { clientOptions, nonNegativeInt, withClient, type ClientOptions } from './client-command.ts';
import { fail, printTable } from './output.ts';

interface GroupPartition {
  readonly topic: string;
  readonly partition: number;
  /** Null if the group never committed the partition (a member owns it, and has not committed yet). */
  readonly committed: number | null;
  /** The partition's high watermark; null if it could not be read (the topic went meanwhile). */
  readonly logEnd: number | null;
  readonly lag: number | null;
  /** The member that owns it now, or null. */
  readonly member: string | null;
}

/** Every partition the group committed or a member of it owns, with its committed offset, log end, lag and owner. */
async function groupPartitions(c: KeelClient, group: string): Promise<{ partitions: GroupPartition[]; members: GroupMemberInfo[] }> {
  const [offsets, members] = await Promise.all([c.describeGroup(group), c.groupMembers(group)]);
  const owner = new Map<string, string>();
  const byTopic = new Map<string, Map<number, number | null>>([...offsets].map(([topic, o]) => [topic, new Map(o)]));
  for (const m of members) {
    for (const p of m.partitions) {
      owner.set(`${m.topic}/${p}`, m.memberId);
      const t = byTopic.get(m.topic) ?? new Map<number, number | null>();
      if (!t.has(p)) t.set(p, null);
      byTopic.set(m.topic, t);
    }
  }
  const partitions: GroupPartition[] = [];
  for (const topic of [...byTopic.keys()].sort()) {
    const rows = [...(byTopic.get(topic) as Map<number, number | null>)].sort((a, b) => a[0] - b[0]);
    partitions.push(...await Promise.all(rows.map(async ([partition, committed]): Promise<GroupPartition> => {
      const logEnd = await c.listOffsets(topic, partition, 'latest').then((o) => o.highWatermark, () => null);
      const lag = logEnd === null || committed === null ? null : Math.max(0, logEnd - committed);
      return { topic, partition, committed, logEnd, lag, member: owner.get(`${topic}/${partition}`) ?? null };
    })));
  }
  return { partitions, members };
}

type ResetOptions = ClientOptions & { topic: string; partition?: string; toEarliest?: boolean; toLatest?: boolean; toOffset?: string; execute?: boolean };

interface ResetStep {
  readonly partition: number;
  /** The committed offset before, or null if the group never committed the partition. */
  readonly from: number | null;
  readonly to: number;
  /** --to-offset asked for an offset outside the partition's log, so `to` is the nearest end of it. */
  readonly clamped: boolean;
}

/** Where each partition of the reset goes (one of --to-earliest, --to-latest, --to-offset). */
async function resetPlan(c: KeelClient, group: string, o: ResetOptions): Promise<{ topicId: number; steps: ResetStep[] }> {
  const targets = [o.toEarliest === true, o.toLatest === true, o.toOffset !== undefined].filter(Boolean).length;
  if (targets !== 1) fail('give exactly one of --to-earliest, --to-latest and --to-offset N', 2);
  const offset = nonNegativeInt(o.toOffset, 'to-offset');
  const one = nonNegativeInt(o.partition, 'partition');
  const t = await c.describeTopic(o.topic);
  const partitions = one === undefined ? t.partitions.map((p) => p.partition) : [one];
  const committed = await c.fetchOffsets(group, o.topic);
  const steps = await Promise.all(partitions.map(async (partition): Promise<ResetStep> => {
    const log = await c.listOffsets(o.topic, partition, o.toEarliest === true ? 'earliest' : 'latest');
    // An offset past the log end would make the group skip the records written up to it, and commits only
    // move forward, so its readers could never bring it back: as Kafka does, reset to the nearest valid one.
    const to = offset === undefined ? log.offset : Math.min(Math.max(offset, log.logStartOffset), log.highWatermark);
    return { partition, from: committed.get(partition) ?? null, to, clamped: offset !== undefined && to !== offset };
  }));
  return { topicId: t.id, steps };
}

export function addGroupCommands(program: Command): void {
  const group = program.command('group').description('list consumer groups and describe where one stands');

  clientOptions(group.command('list').description('list the consumer groups (that committed offsets or have members)'))
    .action((o: ClientOptions) => withClient(o, async (c) => {
      const groups = await c.listGroups();
      if (o.json === true) console.log(JSON.stringify({ groups }));
      else if (groups.length === 0) console.log('no consumer groups');
      else printTable(['group'], groups.map((g) => [g]));
    }));

  clientOptions(group.command('describe <group>').description('committed offset, log end, lag and owning member of each partition of the group, and its members'))
    .action((name: string, o: ClientOptions) => withClient(o, async (c) => {
      const { partitions, members } = await groupPartitions(c, name);
      // A group nobody committed for and nobody is a member of does not exist (Kafka's describe says so too).
      if (partitions.length === 0 && members.length === 0) process.exitCode = 1;
      if (o.json === true) console.log(JSON.stringify({ group: name, partitions, members }));
      else if (partitions.length === 0 && members.length === 0) console.error(`error: consumer group ${name} does not exist (no committed offsets, no members)`);
      else {
        const dash = (v: number | string | null): string => (v === null ? '-' : String(v));
        printTable(['topic', 'partition', 'committed', 'log end', 'lag', 'member'], partitions.map((p) => [
          p.topic, String(p.partition), dash(p.committed), dash(p.logEnd), dash(p.lag), dash(p.member),
        ]));
        console.log(members.length === 0 ? 'no active members' : `${members.length} active member${members.length === 1 ? '' : 's'}`);
      }
    }));

  clientOptions(group.command('reset <group>').description('set a group\'s offsets of a topic, backwards too (stop its consumers first); prints the plan unless --execute'))
    .requiredOption('--topic <topic>', 'the topic whose offsets to reset')
    .option('--partition <p>', 'only this partition (default: every partition of the topic)')
    .option('--to-earliest', 'to each partition\'s earliest offset (read everything retained again)')
    .option('--to-latest', 'to each partition\'s log end (skip everything there now)')
    .option('--to-offset <n>', 'to this offset')
    .option('--execute', 'carry the reset out (without it, only show what it would do)')
    .action((name: string, o: ResetOptions) => withClient(o, async (c) => {
      const { topicId, steps } = await resetPlan(c, name, o);
      const execute = o.execute === true;
      const after = execute ? await c.resetOffsets(name, o.topic, new Map(steps.map((s) => [s.partition, s.to])), { topicId }) : null;
      if (o.json === true) console.log(JSON.stringify({ group: name, topic: o.topic, executed: execute, partitions: steps }));
      else {
        printTable(['topic', 'partition', 'committed', 'reset to'], steps.map((s) => [o.topic, String(s.partition), s.from === null ? '-' : String(s.from), String(after?.get(s.partition) ?? s.to)]));
        for (const s of steps) if (s.clamped) console.error(`note: offset ${o.toOffset} is outside the log of partition ${s.partition}; resetting it to ${s.to} instead`);
        if (!execute) console.log('(a plan: nothing changed; add --execute to reset)');
      }
    }));

  clientOptions(group.command('delete <group>').description('forget everything a consumer group committed'))
    .action((name: string, o: ClientOptions) => withClient(o, async (c) => {
      const deleted = await c.deleteGroup(name);
      if (o.json === true) console.log(JSON.stringify({ group: name, deleted }));
      else if (deleted) console.log(`deleted consumer group ${name}`);
      else console.error(`error: consumer group ${name} has no committed offsets`);
      // Nothing deleted is a failure either way (the JSON says why), as Kafka's --delete of an unknown group.
      if (!deleted) process.exitCode = 1;
    }));
}
