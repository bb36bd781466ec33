// `keel produce TOPIC [--key K | --key-separator S] [--partition P]`: one record per line of stdin, sent with
// the idempotent producer (batched, pipelined). With --key-separator each line is KEY S VALUE, split at the
// first S (Kafka's console producer with parse.key=true and key.separator); a line without S is refused.
// With --json, one line per acknowledged record {topic, partition, offset, key, value}; a record that was
// not acknowledged prints an error line {error: {code, message}, line, value} (the line's number, and its
// value cut at 100 characters) and the exit code is non-zero (DESIGN.md §8).
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { KeelError } from '../net/client/errors.ts';
import { clientOptions, errorCode, nonNegativeInt, withClient, type ClientOptions } from './client-command.ts';
import { fail } from './output.ts';

const encoder = new TextEncoder();
/** Lines sent and not yet answered before `keel produce` stops reading stdin for a moment. */
const UNANSWERED_LINES_MAX = 50_000;
/** How much of a refused line its JSON error line repeats: a 10 MB line is not worth printing again. */
const ECHOED_CHARS_MAX = 100;

export function addProduceCommand(program: Command): void {
  clientOptions(program.command('produce <topic>').description('produce one record per line of standard input'), { json: 'one JSON line per acknowledged record', timeout: 'give up on a record after this long' })
    .option('--key <key>', 'key of every record (picks the partition by murmur2, as Kafka)')
    .option('--key-separator <sep>', 'each line is KEY<sep>VALUE, split at the first <sep> (as Kafka\'s parse.key)')
    .option('--partition <p>', 'write to this partition')
    .option('--acks <acks>', '"all" (wait for commit, default) or "leader" (may lose data)', 'all')
    .action((topic: string, o: ClientOptions & { key?: string; keySeparator?: string; partition?: string; acks: string }) => withClient(o, async (c) => {
      const partition = nonNegativeInt(o.partition, 'partition');
      if (o.acks !== 'all' && o.acks !== 'leader') return fail(`--acks must be "all" or "leader", got "${o.acks}"`, 2);
      if (o.keySeparator === '') return fail('--key-separator must not be empty', 2);
      if (o.keySeparator !== undefined && o.key !== undefined) return fail('--key and --key-separator cannot be used together', 2);
      const producer = c.producer({ idempotent: o.acks === 'all', acks: o.acks });
      const split = lineSplitter(o.key, o.keySeparator);
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
        const refuse = (e: unknown): void => {
          failed++;
          const message = e instanceof Error ? e.message : String(e);
          if (o.json) console.log(JSON.stringify({ error: { code: errorCode(e), message }, line: at, ...echoed(line) }));
          else if (failed <= 5) console.error(`error: line ${at} not acknowledged: ${message} (${errorCode(e)})`);
        };
        const record = split(line);
        if ('error' in record) {
          refuse(record.error);
          continue;
        }
        pending.push(producer.send(topic, record.bytes, partition !== undefined ? { partition } : {}).then((r) => {
          acked++;
          partitions.add(r.partition);
          if (o.json) console.log(JSON.stringify({ topic, partition: r.partition, offset: r.offset, key: record.key, value: record.value }));
        }, refuse));
      }
      await producer.flush();
      await Promise.all(pending);
      await producer.close();
      if (!o.json) console.error(`${acked} record${acked === 1 ? '' : 's'} acknowledged by ${topic}${partitions.size > 0 ? ` (partitions ${[...partitions].sort((a, b) => a - b).join(',')})` : ''}${failed > 0 ? `, ${failed} failed` : ''}`);
      if (failed > 0) process.exitCode = 1;
    }));
}

type LineRecord =
  | { readonly key: string | null; readonly value: string; readonly bytes: { readonly key?: Uint8Array; readonly value: Uint8Array } }
  | { readonly error: KeelError };

/** How a line becomes a record: all of it the value, with --key's key or none, or split at the separator. */
function lineSplitter(fixedKey: string | undefined, separator: string | undefined): (line: string) => LineRecord {
  if (separator === undefined) {
    const key = fixedKey === undefined ? undefined : encoder.encode(fixedKey);
    return (line) => ({ key: fixedKey ?? null, value: line, bytes: { ...(key !== undefined ? { key } : {}), value: encoder.encode(line) } });
  }
  return (line) => {
    const at = line.indexOf(separator);
    if (at < 0) return { error: new KeelError({ code: 'INVALID_RECORD', message: `no key separator ${JSON.stringify(separator)} in the line`, retriable: false }) };
    const key = line.slice(0, at);
    const value = line.slice(at + separator.length);
    return { key, value, bytes: { key: encoder.encode(key), value: encoder.encode(value) } };
  };
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
