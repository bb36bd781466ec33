// `keel consume TOPIC [--from-beginning] [--partition P --offset O] [--group G] [--max N]`: reads committed
// records, from every partition (or one), printing values (or JSON lines with --json). Without --max it
// tails the topic until interrupted. With --group it starts where the group's committed offsets say and
// commits what it printed (every second, and on the way out), so the next run with the group resumes
// after it (at least once: a record printed just before a crash is printed again).
import type { Command } from 'commander';
import type { KeelClient } from '../net/client/keel-client.ts';
import { nonNegativeInt, positiveInt, withClient, type ClientOptions } from './client-command.ts';
import { printable, recordJson } from './value-format.ts';

interface Position {
  readonly partition: number;
  offset: number;
  /** The offset last committed for the group (--group only). */
  committed?: number;
}

/** How often a group's progress is committed while records flow. */
const COMMIT_EVERY_MS = 1_000;

type StartOptions = { fromBeginning?: boolean; partition?: string; offset?: string; group?: string };

/** Where each partition starts, and the id of the topic read (commits name it). */
async function startPositions(c: KeelClient, topic: string, o: StartOptions): Promise<{ topicId: number; positions: Position[] }> {
  const t = await c.describeTopic(topic);
  const one = nonNegativeInt(o.partition, 'partition');
  const explicit = nonNegativeInt(o.offset, 'offset');
  if (explicit !== undefined && one === undefined) {
    console.error('error: --offset needs --partition');
    process.exit(2);
  }
  const parts = one === undefined ? t.partitions.map((p) => p.partition) : [one];
  if (one !== undefined && !t.partitions.some((p) => p.partition === one)) {
    console.error(`error: topic ${topic} has no partition ${one} (it has ${t.partitions.length})`);
    process.exit(1);
  }
  const committed = o.group === undefined ? new Map<number, number>() : await c.fetchOffsets(o.group, topic);
  const out: Position[] = [];
  for (const partition of parts) {
    const groupOffset = committed.get(partition);
    if (groupOffset !== undefined) {
      // Out of the log's range (records trimmed by retention since the commit): the nearest end, as Kafka resets.
      const earliest = (await c.listOffsets(topic, partition, 'earliest')).offset;
      const latest = (await c.listOffsets(topic, partition, 'latest')).offset;
      out.push({ partition, offset: Math.min(Math.max(groupOffset, earliest), latest), committed: groupOffset });
      continue;
    }
    const offset = explicit ?? (await c.listOffsets(topic, partition, o.fromBeginning === true ? 'earliest' : 'latest')).offset;
    out.push({ partition, offset });
  }
  return { topicId: t.id, positions: out };
}

/** Commits the positions that moved past the group's committed offsets (--group). */
async function commitProgress(c: KeelClient, group: string, topic: string, topicId: number, positions: readonly Position[]): Promise<void> {
  const moved = positions.filter((p) => p.offset > (p.committed ?? -1));
  if (moved.length === 0) return;
  const stored = await c.commitOffsets(group, topic, new Map(moved.map((p) => [p.partition, p.offset])), { topicId });
  for (const p of moved) p.committed = stored.get(p.partition) ?? p.offset;
}

export function addConsumeCommand(program: Command): void {
  program.command('consume <topic>')
    .description('print committed records of a topic')
    .option('--from-beginning', 'start at the earliest offset (default: only new records)')
    .option('--partition <p>', 'read only this partition')
    .option('--offset <o>', 'start at this offset (with --partition)')
    .option('--max <n>', 'stop after this many records')
    .option('--group <group>', 'consumer group: start at its committed offsets (else as --from-beginning says) and commit progress')
    .option('--bootstrap <addresses>', 'host:port[,host:port]')
    .option('--json', 'one JSON line per record {topic, partition, offset, key, value, timestamp, headers}')
    .option('--timeout <seconds>', 'give up on a request after this long')
    .action((topic: string, o: ClientOptions & StartOptions & { max?: string }) => withClient(o, async (c) => {
      if (o.group !== undefined && o.offset !== undefined) {
        console.error('error: --offset cannot be used with --group (the group\'s committed offsets say where to start)');
        process.exit(2);
      }
      const max = o.max === undefined ? Number.POSITIVE_INFINITY : positiveInt(o.max, 'max', 1);
      const { topicId, positions } = await startPositions(c, topic, o);
      const group = o.group;
      let printed = 0;
      let stop = false;
      let lastCommitMs = Date.now();
      process.once('SIGINT', () => { stop = true; });
      while (printed < max && !stop) {
        if (group !== undefined && Date.now() - lastCommitMs >= COMMIT_EVERY_MS) {
          // A failed periodic commit is not fatal (as Kafka's auto-commit): the next one covers it.
          await commitProgress(c, group, topic, topicId, positions).catch((err: unknown) => console.error(`warning: commit for group ${group} failed: ${err instanceof Error ? err.message : String(err)}`));
          lastCommitMs = Date.now();
        }
        for (const pos of positions) {
          if (printed >= max || stop) break;
          const r = await c.fetch(topic, pos.partition, pos.offset, { maxWaitMs: positions.length === 1 ? 1_000 : 100 });
          for (const rec of r.records) {
            if (printed >= max) break;
            if (o.json) console.log(JSON.stringify(recordJson(topic, pos.partition, rec)));
            else console.log(printable(rec.value).text ?? '');
            pos.offset = rec.offset + 1;
            printed++;
          }
        }
      }
      if (group !== undefined) await commitProgress(c, group, topic, topicId, positions);
    }));
}
