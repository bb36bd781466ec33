// `keel consume TOPIC [--from-beginning] [--partition P --offset O] [--group G] [--max N]`: prints committed
// records as they come, from every partition (or one), values (with their keys with --print-key, or JSON
// lines with --json), until --max records or until interrupted. With --group it joins the group, reads the
// partitions the group gives it (consumers of one group split the topic's partitions), starts where the
// group's committed offsets say and commits what it printed (every second while records flow, when it
// hands a partition over, and on the way out), so the next reader resumes after it (at least once: a
// record printed just before a crash is printed again). With --timeout it also stops once no record has
// come for that long (as Kafka's console consumer's --timeout-ms). An --offset outside the partition's log
// starts at its nearest end, with a note.
import type { Command } from 'commander';
import { clientOptions, nonNegativeInt, positiveInt, positiveSeconds, withClient, type ClientOptions } from './client-command.ts';
import { fail } from './output.ts';
import { printable, recordJson } from './value-format.ts';

/** How often a group's progress is committed while records flow. */
const COMMIT_EVERY_MS = 1_000;

type ConsumeOptions = ClientOptions & { fromBeginning?: boolean; partition?: string; offset?: string; group?: string; max?: string; printKey?: boolean };

export function addConsumeCommand(program: Command): void {
  clientOptions(program.command('consume <topic>').description('print committed records of a topic'), { json: 'one JSON line per record {topic, partition, offset, key, value, timestamp, headers}', timeout: 'stop once no record has come for this long after reading began (and give up on a request after it)' })
    .option('--from-beginning', 'start at the earliest offset (default: only new records)')
    .option('--partition <p>', 'read only this partition')
    .option('--offset <o>', 'start at this offset (with --partition)')
    .option('--max <n>', 'stop after this many records')
    .option('--group <group>', 'consumer group: share the topic\'s partitions with the group\'s other consumers, start at its committed offsets (else as --from-beginning says) and commit progress')
    .option('--print-key', 'print each record as KEY<tab>VALUE ("null" for no key), as Kafka\'s print.key')
    .action((topic: string, o: ConsumeOptions) => withClient(o, async (c) => {
      const partition = nonNegativeInt(o.partition, 'partition');
      const offset = nonNegativeInt(o.offset, 'offset');
      if (offset !== undefined && partition === undefined) return fail('--offset needs --partition', 2);
      if (offset !== undefined && o.group !== undefined) return fail('--offset cannot be used with --group (the group\'s committed offsets say where to start)', 2);
      const stop = new AbortController();
      // Ctrl-C, or a stop from a supervisor (systemd, docker, timeout): either way the group's progress is committed.
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      const idleMs = positiveSeconds(o.timeout, 'timeout');
      const records = c.consumer().read(topic, {
        ...(partition === undefined ? {} : { partitions: [partition] }),
        from: offset ?? (o.fromBeginning === true ? 'earliest' : 'latest'),
        onOffsetClamped: (p: number, asked: number, startedAt: number) => console.error(`note: offset ${asked} is outside the log of partition ${p}; starting at ${startedAt} instead`),
        follow: true,
        ...(o.max === undefined ? {} : { maxRecords: positiveInt(o.max, 'max', 1) }),
        ...(o.group === undefined ? {} : { group: o.group, autoCommitIntervalMs: COMMIT_EVERY_MS }),
        // A failed periodic commit is not fatal (as Kafka's auto-commit): the next one covers it.
        onCommitError: (e: unknown) => console.error(`warning: commit for group ${o.group} failed: ${e instanceof Error ? e.message : String(e)}`),
        signal: stop.signal,
        ...(idleMs === undefined ? {} : { idleTimeoutMs: idleMs }),
      });
      for await (const r of records) {
        if (o.json === true) console.log(JSON.stringify(recordJson(topic, r.partition, r)));
        else if (o.printKey === true) console.log(`${printable(r.key).text ?? 'null'}\t${printable(r.value).text ?? ''}`);
        else console.log(printable(r.value).text ?? '');
      }
    }));
}
