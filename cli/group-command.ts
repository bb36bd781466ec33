// `keel group list|describe`: the consumer groups that committed offsets, and where one stands in each
// partition it read - its committed offset, the partition's log end and the lag between them (as Kafka's
// kafka-consumer-groups --describe).
import type { Command } from 'commander';
import type { KeelClient } from '../net/client/keel-client.ts';
import { clientOptions, withClient, type ClientOptions } from './client-command.ts';
import { printTable } from './output.ts';

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
}
