// Reading a topic from start to end, for `keel consume` and for tests: one partition or all of them, from
// the earliest offset, the latest, or a given one, until `maxRecords` records or - unless following - until
// every partition has been read up to the high watermark it had when reading began. Partitions are read
// side by side (one fetch each per round); records of one partition come in offset order.
import { invalidRequest, KeelError } from './errors.ts';
import type { ConsumedRecord, FetchResult } from './records.ts';
import type { ListOffsetsResult, OffsetSpec, TopicInfo } from './wire.ts';

/** What a consumer needs from its client (KeelClient has it). */
export interface ConsumerHost {
  describeTopic(name: string): Promise<TopicInfo>;
  listOffsets(topic: string, partition: number, spec: OffsetSpec): Promise<ListOffsetsResult>;
  fetch(topic: string, partition: number, offset: number, options?: { readonly maxBytes?: number; readonly maxWaitMs?: number }): Promise<FetchResult>;
}

export interface ReadOptions {
  /** Default: every partition of the topic. */
  readonly partitions?: readonly number[];
  /** Default 'earliest'. A number is an offset, used for every partition read. */
  readonly from?: 'earliest' | 'latest' | number;
  /** Stop after this many records (default: no limit). */
  readonly maxRecords?: number;
  /** Keep waiting for new records instead of stopping at the high watermark (default false). */
  readonly follow?: boolean;
  /** Long-poll of each fetch while following (default 1,000). */
  readonly maxWaitMs?: number;
  /** Per fetch (default 1 MiB). */
  readonly fetchBytesMax?: number;
}

export interface TopicRecord extends ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
}

interface Cursor {
  readonly partition: number;
  offset: number;
  /** Not following: read up to (excluding) this offset, the high watermark when reading began. */
  readonly end: number;
  /** Fetches in a row that returned nothing although offset < end. */
  emptyFetches: number;
}

/**
 * Empty answers below the known high watermark tolerated in a row (a new leader serves reads only once
 * its commit index has caught up; each such fetch long-polls CATCH_UP_WAIT_MS).
 */
const EMPTY_FETCHES_MAX = 40;
const CATCH_UP_WAIT_MS = 250;

export class Consumer {
  constructor(private readonly host: ConsumerHost) {}

  /** The records, as an async iterable (stop early with break). */
  async *read(topic: string, options: ReadOptions = {}): AsyncGenerator<TopicRecord, void, undefined> {
    const follow = options.follow ?? false;
    let remaining = options.maxRecords ?? Number.POSITIVE_INFINITY;
    if (!(remaining >= 0)) throw invalidRequest(`maxRecords must be >= 0, got ${options.maxRecords}`);
    const cursors = await this.start(topic, options);
    let active = cursors.filter((c) => follow || c.offset < c.end);
    while (active.length > 0 && remaining > 0) {
      const answers = await Promise.all(active.map((c) => this.host.fetch(topic, c.partition, c.offset, {
        maxBytes: options.fetchBytesMax ?? 1 << 20,
        maxWaitMs: follow ? (options.maxWaitMs ?? 1_000) : c.emptyFetches > 0 ? CATCH_UP_WAIT_MS : 0,
      })));
      for (let i = 0; i < active.length && remaining > 0; i++) {
        const c = active[i] as Cursor;
        const answer = answers[i] as FetchResult;
        let got = 0;
        for (const r of answer.records) {
          if (r.offset < c.offset) continue;
          if (!follow && r.offset >= c.end) break;
          yield { ...r, topic, partition: c.partition };
          c.offset = r.offset + 1;
          got++;
          if (--remaining <= 0) return;
        }
        if (follow || got > 0) c.emptyFetches = 0;
        else if (c.offset < c.end && ++c.emptyFetches > EMPTY_FETCHES_MAX) {
          throw new KeelError({ code: 'REQUEST_TIMED_OUT', message: `${topic}/${c.partition}: no records at offset ${c.offset} although the high watermark was ${c.end}`, retriable: true });
        }
      }
      active = active.filter((c) => follow || c.offset < c.end);
    }
  }

  /** Every record read() yields, collected (give maxRecords or leave follow off, or it never ends). */
  async readAll(topic: string, options: ReadOptions = {}): Promise<TopicRecord[]> {
    const out: TopicRecord[] = [];
    for await (const r of this.read(topic, options)) out.push(r);
    return out;
  }

  private async start(topic: string, options: ReadOptions): Promise<Cursor[]> {
    const info = await this.host.describeTopic(topic);
    const all = info.partitions.map((p) => p.partition).sort((a, b) => a - b);
    const chosen = options.partitions ?? all;
    for (const p of chosen) {
      if (!all.includes(p)) throw new KeelError({ code: 'UNKNOWN_TOPIC_OR_PARTITION', message: `topic ${topic} has ${all.length} partition${all.length === 1 ? '' : 's'}; there is no partition ${p}`, retriable: false });
    }
    const from = options.from ?? 'earliest';
    if (typeof from === 'number' && (!Number.isSafeInteger(from) || from < 0)) throw invalidRequest(`an offset must be a non-negative integer, got ${from}`);
    return Promise.all(chosen.map(async (partition) => {
      const o = await this.host.listOffsets(topic, partition, typeof from === 'number' ? 'latest' : from);
      return { partition, offset: typeof from === 'number' ? from : o.offset, end: o.highWatermark, emptyFetches: 0 };
    }));
  }
}
