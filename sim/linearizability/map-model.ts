// A key-value map with get / put / create-if-absent / delete / list, partitioned per key.
//
// Partitioning and `list`: get, put, create and delete each touch one key, so by Herlihy & Wing's
// locality a history without `list` is checked key by key, which keeps the search small. A `list`
// observes every key at once, so a history that contains one (with a known outcome) is checked as a
// single whole-map partition. This is automatic: callers need not split their histories. Expect the
// whole-map check to cost more; record list operations sparingly in long histories.
import { assert } from '../../raft/assert.ts';
import type { Model, Operation } from './types.ts';

export type MapInput<V> =
  | { readonly type: 'get'; readonly key: string }
  /** Unconditional write: creates or overwrites. */
  | { readonly type: 'put'; readonly key: string; readonly value: V }
  /** Create if absent: takes effect only when the key is absent. */
  | { readonly type: 'create'; readonly key: string; readonly value: V }
  | { readonly type: 'delete'; readonly key: string }
  | { readonly type: 'list' };

export type MapOutput<V> =
  | { readonly type: 'get'; readonly found: true; readonly value: V }
  | { readonly type: 'get'; readonly found: false }
  | { readonly type: 'put' }
  /** created false: the key already existed (ALREADY_EXISTS) and nothing changed. */
  | { readonly type: 'create'; readonly created: boolean }
  /** existed false: there was no such key (UNKNOWN) and nothing changed. */
  | { readonly type: 'delete'; readonly existed: boolean }
  /** The keys present, in any order. */
  | { readonly type: 'list'; readonly keys: readonly string[] };

/** Immutable. `values` maps each present key to its value's `valueKey`; `hash` is their canonical JSON. */
export interface MapState {
  readonly values: ReadonlyMap<string, string>;
  readonly hash: string;
}

export interface MapModelOptions<V> {
  /** Canonical text of a value; two values are equal iff their keys are. Default JSON.stringify (mind property order). */
  readonly valueKey?: (value: V) => string;
}

export type MapModel<V> = Model<MapState, MapInput<V>, MapOutput<V>>;

function byKey(a: readonly [string, string], b: readonly [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function mapState(values: Map<string, string>): MapState {
  return { values, hash: JSON.stringify([...values].sort(byKey)) };
}

function withValue(state: MapState, key: string, valueKey: string): MapState {
  const values = new Map(state.values);
  values.set(key, valueKey);
  return mapState(values);
}

function withoutKey(state: MapState, key: string): MapState {
  const values = new Map(state.values);
  values.delete(key);
  return mapState(values);
}

function sameKeys(state: MapState, observed: readonly string[]): boolean {
  if (observed.length !== state.values.size) return false;
  const expected = [...state.values.keys()].sort();
  return [...observed].sort().every((k, i) => k === expected[i]);
}

const EMPTY: MapState = mapState(new Map());

/** Reads with an unknown outcome have no effect and constrain nothing: partitions drop them. */
function constrainsNothing<V>(op: Operation<MapInput<V>, MapOutput<V>>): boolean {
  return op.output === undefined && (op.input.type === 'get' || op.input.type === 'list');
}

/** One partition per key, in order of first appearance; one whole-map partition if any list remains. */
function partitionByKey<V>(ops: readonly Operation<MapInput<V>, MapOutput<V>>[]): Operation<MapInput<V>, MapOutput<V>>[][] {
  const relevant = ops.filter((op) => !constrainsNothing(op));
  if (relevant.some((op) => op.input.type === 'list')) return relevant.length > 0 ? [relevant] : [];
  const byKeyName = new Map<string, Operation<MapInput<V>, MapOutput<V>>[]>();
  for (const op of relevant) {
    const key = op.input.type === 'list' ? '' : op.input.key;
    const group = byKeyName.get(key);
    if (group === undefined) byKeyName.set(key, [op]);
    else group.push(op);
  }
  return [...byKeyName.values()];
}

export function mapModel<V>(options: MapModelOptions<V> = {}): MapModel<V> {
  const valueKey = options.valueKey ?? ((v: V) => JSON.stringify(v));
  return {
    init: () => EMPTY,
    step(state: MapState, input: MapInput<V>, output: MapOutput<V> | undefined): readonly MapState[] {
      assert(output === undefined || output.type === input.type, `map: ${input.type} answered by ${output?.type}`);
      switch (input.type) {
        case 'get': {
          if (output?.type !== 'get') return [state];
          const present = state.values.get(input.key);
          const legal = output.found ? present === valueKey(output.value) : present === undefined;
          return legal ? [state] : [];
        }
        case 'put':
          return [withValue(state, input.key, valueKey(input.value))];
        case 'create': {
          const present = state.values.has(input.key);
          const after = present ? state : withValue(state, input.key, valueKey(input.value));
          return output?.type !== 'create' || output.created !== present ? [after] : [];
        }
        case 'delete': {
          const present = state.values.has(input.key);
          const after = present ? withoutKey(state, input.key) : state;
          return output?.type !== 'delete' || output.existed === present ? [after] : [];
        }
        case 'list':
          return output?.type !== 'list' || sameKeys(state, output.keys) ? [state] : [];
      }
    },
    hash: (state: MapState) => state.hash,
    partition: partitionByKey,
    describeOperation(input: MapInput<V>, output: MapOutput<V> | undefined): string {
      switch (input.type) {
        case 'get':
          return `get(${input.key}) -> ${output?.type !== 'get' ? '?' : output.found ? valueKey(output.value) : 'absent'}`;
        case 'put':
          return `put(${input.key}, ${valueKey(input.value)}) -> ${output === undefined ? '?' : 'ok'}`;
        case 'create':
          return `create(${input.key}, ${valueKey(input.value)}) -> ${output?.type !== 'create' ? '?' : output.created ? 'created' : 'exists'}`;
        case 'delete':
          return `delete(${input.key}) -> ${output?.type !== 'delete' ? '?' : output.existed ? 'deleted' : 'absent'}`;
        case 'list':
          return `list() -> ${output?.type !== 'list' ? '?' : JSON.stringify([...output.keys].sort())}`;
      }
    },
  };
}
