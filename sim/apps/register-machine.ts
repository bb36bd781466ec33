// The state machine of the simulator's Raft-level runs: an append-only register of client payloads,
// indexed by log position, so the checkers can tell exactly what was applied where. Payloads are kept
// as the bytes of their entries and decoded only when a checker asks: applying and snapshotting run on
// every node for every entry, reading back only once per run.
import type { StateMachine } from '../../broker/replica.ts';
import { ByteReader, ByteWriter } from '../../broker/codec/bytes.ts';
import type { Entry, Index } from '../../raft/types.ts';

const decoder = new TextDecoder();

/** What the end-of-run checks read: the payload applied at a log index. */
export interface AppliedPayloads {
  payloadAt(index: number): string | undefined;
}

export class RegisterMachine implements StateMachine, AppliedPayloads {
  /** Log index -> payload, for every non-empty entry applied (entries are never mutated once applied). */
  private readonly byIndex = new Map<number, Uint8Array>();

  apply(e: Entry): unknown {
    if (e.data.byteLength === 0) return undefined;
    this.byIndex.set(e.index, e.data);
    return e.index;
  }

  payloadAt(index: number): string | undefined {
    const data = this.byIndex.get(index);
    return data === undefined ? undefined : decoder.decode(data);
  }

  /** count u32, then per entry: index f64, payload (u32 length + bytes). */
  snapshot(): Uint8Array {
    let bytes = 4;
    for (const data of this.byIndex.values()) bytes += 12 + data.byteLength;
    const w = new ByteWriter(bytes);
    w.u32(this.byIndex.size);
    for (const [i, data] of this.byIndex) w.num(i).bytes(data);
    return w.finish();
  }

  restore(data: Uint8Array, _index: Index): void {
    this.byIndex.clear();
    const r = new ByteReader(data);
    const n = r.u32();
    for (let k = 0; k < n && r.ok; k++) {
      const index = r.uint();
      // Copied: the snapshot buffer belongs to the caller.
      this.byIndex.set(index, r.bytes().slice());
    }
    if (!r.done()) throw new Error('register snapshot is malformed');
  }
}
