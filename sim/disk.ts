// The simulated disk of one node, with LevelDB's contract: a write batch is atomic, and durable once its
// completion fires. What a crash does to the batch in flight: it may already be on the platter (kept,
// though never acknowledged), or lost — a torn batch is detected by the log's checksum and discarded
// whole, which is the same. Latent corruption flips bits of a stored record; fsync may fail.
import type { StorageError, WriteOp } from '../broker/ports.ts';
import type { SimRng } from './rng.ts';

export interface DiskOptions {
  readonly writeLatencyMinMs: number;
  readonly writeLatencyMeanMs: number;
  /** Probability that a batch in flight at a crash had reached the disk anyway. */
  readonly crashKeepsInFlightProbability: number;
  readonly fsyncFailureProbability: number;
  readonly loadLatencyMs: number;
}

export const FAST_DISK: DiskOptions = {
  writeLatencyMinMs: 0.2,
  writeLatencyMeanMs: 0.3,
  crashKeepsInFlightProbability: 0.5,
  fsyncFailureProbability: 0,
  loadLatencyMs: 5,
};

export interface DiskStats {
  writes: number;
  crashLostBatches: number;
  crashKeptBatches: number;
  corruptions: number;
  fsyncFailures: number;
  wipes: number;
}

interface InFlight {
  readonly ops: readonly WriteOp[];
  settled: boolean;
}

export class SimDisk {
  options: DiskOptions;
  readonly stats: DiskStats = { writes: 0, crashLostBatches: 0, crashKeptBatches: 0, corruptions: 0, fsyncFailures: 0, wipes: 0 };
  /**
   * Durable records, by key space: the first 11 characters of a key (`g/<group>/`, one Raft group's
   * records). A range delete then scans one group's records, and a write costs one map insert.
   */
  private readonly spaces = new Map<string, Map<string, Uint8Array>>();
  private records = 0;
  /** The last space written, and its prefix: a batch's ops are mostly of one group. */
  private lastPrefix = '';
  private lastSpace: Map<string, Uint8Array> | undefined;
  private inFlight: InFlight[] = [];

  constructor(private readonly rng: SimRng, options: DiskOptions) {
    this.options = options;
  }

  get hasWritesInFlight(): boolean {
    return this.inFlight.length > 0;
  }

  get recordCount(): number {
    return this.records;
  }

  /**
   * Starts a write; `schedule(delayMs, fn)` runs fn when the disk finishes, unless the process crashed
   * meanwhile (then crash() settles the batch).
   */
  write(ops: readonly WriteOp[], schedule: (delayMs: number, fn: () => void) => void, done: (err: StorageError | null) => void): void {
    this.stats.writes++;
    const w: InFlight = { ops, settled: false };
    this.inFlight.push(w);
    const o = this.options;
    const delay = o.writeLatencyMinMs + this.rng.exponential(o.writeLatencyMeanMs);
    const fails = this.rng.chance(o.fsyncFailureProbability);
    schedule(delay, () => {
      if (w.settled) return;
      w.settled = true;
      this.inFlight.splice(this.inFlight.indexOf(w), 1);
      if (fails) {
        // After a failed fsync nothing is known about the data; keep it or not at random.
        this.stats.fsyncFailures++;
        if (this.rng.chance(0.5)) this.apply(ops);
        done({ code: 'FSYNC_FAILED', message: 'simulated fsync failure' });
        return;
      }
      this.apply(ops);
      done(null);
    });
  }

  private space(key: string): Map<string, Uint8Array> {
    if (this.lastSpace !== undefined && key.startsWith(this.lastPrefix)) return this.lastSpace;
    const prefix = key.slice(0, 11);
    let space = this.spaces.get(prefix);
    if (space === undefined) {
      space = new Map();
      this.spaces.set(prefix, space);
    }
    // Only a full-length prefix identifies a space by startsWith (a shorter key is a space of its own).
    if (prefix.length === 11) {
      this.lastPrefix = prefix;
      this.lastSpace = space;
    }
    return space;
  }

  private apply(ops: readonly WriteOp[]): void {
    for (const op of ops) {
      if (op.type === 'put') {
        // Stored by reference: a node never touches a buffer after handing it to a write, and
        // corrupt() replaces a record with a damaged copy.
        const space = this.space(op.key);
        const size = space.size;
        space.set(op.key, op.value);
        this.records += space.size - size;
      } else if (op.type === 'del') {
        if (this.spaces.get(op.key.slice(0, 11))?.delete(op.key) === true) this.records--;
      } else {
        // Range deletes never span key spaces of different groups here; scan the smallest candidate set.
        const samePrefix = op.gte.slice(0, 11) === op.lt.slice(0, 11) || op.lt.startsWith(op.gte.slice(0, 10));
        const candidates = samePrefix ? [this.spaces.get(op.gte.slice(0, 11))] : [...this.spaces.values()];
        for (const space of candidates) {
          if (space === undefined) continue;
          // Deleting the entry just visited is safe while iterating a Map.
          for (const k of space.keys()) {
            if (k >= op.gte && k < op.lt) {
              space.delete(k);
              this.records--;
            }
          }
        }
      }
    }
  }

  /** Every durable record, in no particular order. */
  private *entries(): IterableIterator<[string, Uint8Array]> {
    for (const space of this.spaces.values()) yield* space;
  }

  /** kill -9: each batch in flight either made it whole or is lost whole (torn batches are discarded). */
  crash(): void {
    for (const w of this.inFlight) {
      if (w.settled) continue;
      w.settled = true;
      if (this.rng.chance(this.options.crashKeepsInFlightProbability)) {
        this.apply(w.ops);
        this.stats.crashKeptBatches++;
      } else {
        this.stats.crashLostBatches++;
      }
    }
    this.inFlight = [];
  }

  /** Everything durable, sorted by key (what a restarted node reads). */
  snapshot(): Map<string, Uint8Array> {
    return new Map([...this.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** The disk is replaced by an empty one (a wiped data directory); call it while the node is down. */
  wipe(): void {
    this.spaces.clear();
    this.records = 0;
    this.lastPrefix = '';
    this.lastSpace = undefined;
    this.inFlight = [];
    this.stats.wipes++;
  }

  /** Latent corruption: flips one byte of one stored record whose key passes `filter`. Returns the key. */
  corrupt(filter: (key: string) => boolean): string | undefined {
    const keys = [...this.entries()].map(([k]) => k).filter(filter).sort();
    if (keys.length === 0) return undefined;
    const key = this.rng.pick(keys);
    const space = this.space(key);
    const value = (space.get(key) as Uint8Array).slice();
    if (value.byteLength === 0) return undefined;
    const at = this.rng.nextInt(value.byteLength);
    value[at] = (value[at] as number) ^ (1 << this.rng.nextInt(8));
    space.set(key, value);
    this.stats.corruptions++;
    return key;
  }
}
