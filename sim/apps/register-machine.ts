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

  /** One `index value` line per entry (payloads never contain a newline). */
  snapshot(): Uint8Array {
    let text = '';
    for (const [i, v] of this.byIndex) text += `${i} ${v}\n`;
    return encoder.encode(text);
  }

  restore(data: Uint8Array, _index: Index): void {
    this.byIndex.clear();
    for (const line of decoder.decode(data).split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0) this.byIndex.set(Number(line.slice(0, sp)), line.slice(sp + 1));
    }
  }
}
