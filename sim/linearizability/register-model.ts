// A single read/write/compare-and-set register: the smallest model worth checking, and the one the
// linearizability literature (Herlihy & Wing, Knossos, Porcupine) uses as its running example.
import { assert } from '../../raft/assert.ts';
import type { Model } from './types.ts';

/** Values compared with ===, so they must be primitives (null, not undefined, for "empty"). */
export type RegisterValue = string | number | boolean | null;

export type RegisterInput<V extends RegisterValue> =
  | { readonly type: 'read' }
  | { readonly type: 'write'; readonly value: V }
  | { readonly type: 'cas'; readonly expected: V; readonly value: V };

export type RegisterOutput<V extends RegisterValue> =
  | { readonly type: 'read'; readonly value: V }
  | { readonly type: 'write' }
  /** ok: the register held `expected` and now holds `value`; not ok: it held something else and is unchanged. */
  | { readonly type: 'cas'; readonly ok: boolean };

export type RegisterModel<V extends RegisterValue> = Model<V, RegisterInput<V>, RegisterOutput<V>>;

export function registerModel<V extends RegisterValue>(initial: V): RegisterModel<V> {
  return {
    init: () => initial,
    step(state: V, input: RegisterInput<V>, output: RegisterOutput<V> | undefined): readonly V[] {
      assert(output === undefined || output.type === input.type, `register: ${input.type} answered by ${output?.type}`);
      switch (input.type) {
        case 'read':
          // An unanswered read has no effect and constrains nothing.
          return output?.type !== 'read' || output.value === state ? [state] : [];
        case 'write':
          return [input.value];
        case 'cas': {
          const matches = state === input.expected;
          const after = matches ? input.value : state;
          return output?.type !== 'cas' || output.ok === matches ? [after] : [];
        }
      }
    },
    hash: (state: V) => JSON.stringify(state),
    describeOperation(input: RegisterInput<V>, output: RegisterOutput<V> | undefined): string {
      switch (input.type) {
        case 'read':
          return `read() -> ${output?.type === 'read' ? JSON.stringify(output.value) : '?'}`;
        case 'write':
          return `write(${JSON.stringify(input.value)}) -> ${output === undefined ? '?' : 'ok'}`;
        case 'cas': {
          const result = output?.type === 'cas' ? (output.ok ? 'ok' : 'failed') : '?';
          return `cas(${JSON.stringify(input.expected)}, ${JSON.stringify(input.value)}) -> ${result}`;
        }
      }
    },
  };
}
