// The state machine of the simulator's Raft-level runs: an append-only register of client payloads,
// indexed by log position, so the checkers can tell exactly what was applied where.
import type { StateMachine } from '../../broker/replica.ts';
import type { Entry, Index } from '../../raft/types.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class RegisterMachine implements StateMachine {
  /** Log index -> payload, for every non-empty entry applied. */
  readonly byIndex = new Map<number, string>();

  apply(e: Entry): unknown {
    if (e.data.byteLength === 0) return undefined;
    const v = decoder.decode(e.data);
    this.byIndex.set(e.index, v);
    return e.index;
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify([...this.byIndex]));
  }

  restore(data: Uint8Array, _index: Index): void {
    this.byIndex.clear();
    for (const [i, v] of JSON.parse(decoder.decode(data)) as [number, string][]) this.byIndex.set(i, v);
  }
}
