// `keel produce TOPIC [--key K] [--partition P]`: one record per line of stdin, sent with the idempotent
// producer (batched, pipelined). With --json, one line per acknowledged record
// {topic, partition, offset, key, value}; a record that was not acknowledged prints an error line
// {error: {code, message}, line, value} (the line's number, and its value cut at 100 characters) and the
// exit code is non-zero (DESIGN.md §8).
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { clientOptions, errorCode, nonNegativeInt, withClient, type ClientOptions } from './client-command.ts';

const encoder = new TextEncoder();
/** Lines sent and not yet answered before `keel produce` stops reading stdin for a moment. */
const UNANSWERED_LINES_MAX = 50_000;
/** How much of a refused line its JSON error line repeats: a 10 MB line is not worth printing again. */
const ECHOED_CHARS_MAX = 100;

export function addProduceCommand(program: Command): void {
  clientOptions(program.command('produce <topic>').description('produce one record per line of standard input'), { json: 'one JSON line per acknowledged record', timeout: 'give up on a record after this long' })
    .option('--key <key>', 'key of every record (picks the partition by murmur2, as Kafka)')
    .option('--partition <p>', 'write to this partition')
    .option('--acks <acks>', '"all" (wait for commit, default) or "leader" (may lose data)', 'all')
    .action((topic: string, o: ClientOptions & { key?: string; partition?: string; acks: string }) => withClient(o, async (c) => {
      const partition = nonNegativeInt(o.partition, 'partition');
      if (o.acks !== 'all' && o.acks !== 'leader') {
        console.error(`error: --acks must be "all" or "leader", got "${o.acks}"`);
        process.exit(2);
      }
      const producer = c.producer({ idempotent: o.acks === 'all', acks: o.acks });
      const key = o.key === undefined ? undefined : encoder.encode(o.key);
      let acked = 0;
      let failed = 0;
      const partitions = new Set<number>();
      let pending: Promise<void>[] = [];
      let lineNumber = 0;
      const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
      for await (const line of lines) {
        const at = ++lineNumber;
        // Reading stops while this many records are unanswered: a large file must not become a queue
        // of waiting sends in memory (the producer itself holds at most bufferedRecordsMax).
        if (pending.length >= UNANSWERED_LINES_MAX) {
          await Promise.all(pending);
          pending = [];
        }
        pending.push(producer.send(topic, { ...(key !== undefined ? { key } : {}), value: encoder.encode(line) }, partition !== undefined ? { partition } : {}).then((r) => {
          acked++;
          partitions.add(r.partition);
          if (o.json) console.log(JSON.stringify({ topic, partition: r.partition, offset: r.offset, key: o.key ?? null, value: line }));
        }, (e: unknown) => {
          failed++;
          const message = e instanceof Error ? e.message : String(e);
          if (o.json) console.log(JSON.stringify({ error: { code: errorCode(e), message }, line: at, ...echoed(line) }));
          else if (failed <= 5) console.error(`error: line ${at} not acknowledged: ${message} (${errorCode(e)})`);
        }));
      }
      await producer.flush();
      await Promise.all(pending);
      await producer.close();
      if (!o.json) console.error(`${acked} record${acked === 1 ? '' : 's'} acknowledged by ${topic}${partitions.size > 0 ? ` (partitions ${[...partitions].sort((a, b) => a - b).join(',')})` : ''}${failed > 0 ? `, ${failed} failed` : ''}`);
      if (failed > 0) process.exitCode = 1;
    }));
}

/** The start of a refused line, marked when cut; cut between characters, never inside a surrogate pair. */
function echoed(line: string): { value: string; truncated?: true } {
  let end = 0;
  let chars = 0;
  for (const ch of line) {
    if (chars === ECHOED_CHARS_MAX) return { value: line.slice(0, end), truncated: true };
    end += ch.length;
    chars++;
  }
  return { value: line };
}
