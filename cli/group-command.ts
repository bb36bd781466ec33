// `keel group list|describe|reset|delete`: the consumer groups that committed offsets, where one stands in
// each partition it read (its committed offset, the partition's log end and the lag between them), and
// an operator's moves: resetting a group's offsets of a topic (a plan unless --execute, as Kafka's
// kafka-consumer-groups --reset-offsets) and deleting a group.
import type { Command } from 'commander';
import type { KeelClient } from '../net/client/keel-client.ts';
import { clientOptions, nonNegativeInt, withClient, type ClientOptions } from './client-command.ts';
import { fail, printTable } from './output.ts';

interface GroupPartition {
  readonly topic: string;
  readonly partition: number;
  readonly committed: number;
  /** The partition's high watermark; null if it could not be read (the topic went meanwhile). */
  readonly logEnd: number | null;
  readonly lag: number | null;
}

async function groupPartitions(c: KeelClient, group: string): Promise<GroupPartition[]> {
  const out: GroupPartition[] = [];
  for (const [topic, offsets] of await c.describeGroup(group)) {
    const rows = await Promise.all([...offsets].map(async ([partition, committed]): Promise<GroupPartition> => {
      const logEnd = await c.listOffsets(topic, partition, 'latest').then((o) => o.highWatermark, () => null);
      return { topic, partition, committed, logEnd, lag: logEnd === null ? null : Math.max(0, logEnd - committed) };
    }));
    out.push(...rows);
  }
  return out;
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

  clientOptions(group.command('list').description('list the consumer groups that committed offsets'))
    .action((o: ClientOptions) => withClient(o, async (c) => {
      const groups = await c.listGroups();
      if (o.json === true) console.log(JSON.stringify({ groups }));
      else if (groups.length === 0) console.log('no consumer groups');
      else printTable(['group'], groups.map((g) => [g]));
    }));

  clientOptions(group.command('describe <group>').description('committed offset, log end and lag of each partition the group read'))
    .action((name: string, o: ClientOptions) => withClient(o, async (c) => {
      const partitions = await groupPartitions(c, name);
      if (o.json === true) console.log(JSON.stringify({ group: name, partitions }));
      else if (partitions.length === 0) console.log(`consumer group ${name} has no committed offsets`);
      else {
        printTable(['topic', 'partition', 'committed', 'log end', 'lag'], partitions.map((p) => [
          p.topic, String(p.partition), String(p.committed), p.logEnd === null ? '-' : String(p.logEnd), p.lag === null ? '-' : String(p.lag),
        ]));
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
