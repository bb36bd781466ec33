// `keel consume TOPIC [--from-beginning] [--partition P --offset O] [--max N]`: reads committed records,
// from every partition (or one), printing values (or JSON lines with --json). Without --max it tails the
// topic until interrupted.
import type { Command } from 'commander';
import type { KeelClient } from '../net/client/keel-client.ts';
import { nonNegativeInt, positiveInt, withClient, type ClientOptions } from './client-command.ts';
import { printable, recordJson } from './value-format.ts';

interface Position {
  readonly partition: number;
  offset: number;
}

async function startPositions(c: KeelClient, topic: string, o: { fromBeginning?: boolean; partition?: string; offset?: string }): Promise<Position[]> {
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
  const out: Position[] = [];
  for (const partition of parts) {
    const offset = explicit ?? (await c.listOffsets(topic, partition, o.fromBeginning === true ? 'earliest' : 'latest')).offset;
    out.push({ partition, offset });
  }
  return out;
}

export function addConsumeCommand(program: Command): void {
  program.command('consume <topic>')
    .description('print committed records of a topic')
    .option('--from-beginning', 'start at the earliest offset (default: only new records)')
    .option('--partition <p>', 'read only this partition')
    .option('--offset <o>', 'start at this offset (with --partition)')
    .option('--max <n>', 'stop after this many records')
    .option('--group <group>', 'consumer group (not supported yet)')
    .option('--bootstrap <addresses>', 'host:port[,host:port]')
    .option('--json', 'one JSON line per record {topic, partition, offset, key, value, timestamp, headers}')
    .option('--timeout <seconds>', 'give up on a request after this long')
    .action((topic: string, o: ClientOptions & { fromBeginning?: boolean; partition?: string; offset?: string; max?: string; group?: string }) => withClient(o, async (c) => {
      if (o.group !== undefined) {
        console.error('error: consumer groups are not supported yet; use --from-beginning or --partition/--offset');
        process.exit(2);
      }
      const max = o.max === undefined ? Number.POSITIVE_INFINITY : positiveInt(o.max, 'max', 1);
      const positions = await startPositions(c, topic, o);
      let printed = 0;
      let stop = false;
      process.once('SIGINT', () => { stop = true; });
      while (printed < max && !stop) {
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
    }));
}
