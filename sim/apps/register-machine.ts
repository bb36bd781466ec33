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
  /**
   * The snapshot, kept up to date as entries apply: per entry, index f64 then payload (u32 length +
   * bytes). The register only grows, so a snapshot is one copy instead of re-encoding every entry.
   */
  private encoded = new ByteWriter(4096);

  apply(e: Entry): unknown {
    if (e.data.byteLength === 0) return undefined;
    this.byIndex.set(e.index, e.data);
    this.encoded.num(e.index).bytes(e.data);
    return e.index;
  }

  payloadAt(index: number): string | undefined {
    const data = this.byIndex.get(index);
    return data === undefined ? undefined : decoder.decode(data);
  }

  snapshot(): Uint8Array {
    return this.encoded.written(0, this.encoded.length).slice();
  }

  restore(data: Uint8Array, _index: Index): void {
    this.byIndex.clear();
    this.encoded = new ByteWriter(Math.max(4096, data.byteLength * 2));
    const r = new ByteReader(data);
    while (r.ok && r.remaining > 0) {
      const index = r.uint();
      // Copied: the snapshot buffer belongs to the caller.
      const payload = r.bytes().slice();
      if (!r.ok) break;
      this.byIndex.set(index, payload);
      this.encoded.num(index).bytes(payload);
    }
    if (!r.done()) throw new Error('register snapshot is malformed');
  }
}
