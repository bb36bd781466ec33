// A key-value map with get / put / create-if-absent / update-if-present / delete / list, partitioned per key.
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
  /** Update if present: changes the fields given (see MapModelOptions.merge); nothing when the key is absent. */
  | { readonly type: 'update'; readonly key: string; readonly value: Partial<V> }
  | { readonly type: 'delete'; readonly key: string }
  | { readonly type: 'list' };

export type MapOutput<V> =
  | { readonly type: 'get'; readonly found: true; readonly value: V }
  | { readonly type: 'get'; readonly found: false }
  | { readonly type: 'put' }
  /** created false: the key already existed (ALREADY_EXISTS) and nothing changed. */
  | { readonly type: 'create'; readonly created: boolean }
  /** existed false: there was no such key (UNKNOWN) and nothing changed. */
  | { readonly type: 'update'; readonly existed: boolean }
  /** existed false: there was no such key (UNKNOWN) and nothing changed. */
  | { readonly type: 'delete'; readonly existed: boolean }
  /** The keys present, in any order. */
  | { readonly type: 'list'; readonly keys: readonly string[] };

/**
 * Immutable. `entries` holds each present key with its value's `valueKey`. Invariant: sorted by key,
 * keys unique, so `hash` (their JSON) is canonical without sorting on every step.
 */
export interface MapState {
  readonly entries: readonly (readonly [string, string])[];
  readonly hash: string;
}

export interface MapModelOptions<V> {
  /** Canonical text of a value; two values are equal iff their keys are. Default JSON.stringify (mind property order). */
  readonly valueKey?: (value: V) => string;
  /** The value key after `patch` is applied to the value whose key is `current` (needed for updates). */
  readonly merge?: (current: string, patch: Partial<V>) => string;
}

export type MapModel<V> = Model<MapState, MapInput<V>, MapOutput<V>>;

function mapState(entries: readonly (readonly [string, string])[]): MapState {
  return { entries, hash: JSON.stringify(entries) };
}

/** Index of `key` in the sorted entries if present, else the index where it would be inserted. */
function lowerBound(state: MapState, key: string): number {
  let lo = 0;
  let hi = state.entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((state.entries[mid] as readonly [string, string])[0] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The value key stored under `key`, or undefined if absent. */
function lookup(state: MapState, key: string): string | undefined {
  const entry = state.entries[lowerBound(state, key)];
  return entry !== undefined && entry[0] === key ? entry[1] : undefined;
}

function withValue(state: MapState, key: string, valueKey: string): MapState {
  const at = lowerBound(state, key);
  const present = state.entries[at]?.[0] === key;
  const entries = [...state.entries];
  entries.splice(at, present ? 1 : 0, [key, valueKey]);
  return mapState(entries);
}

function withoutKey(state: MapState, key: string): MapState {
  const at = lowerBound(state, key);
  if (state.entries[at]?.[0] !== key) return state;
  const entries = [...state.entries];
  entries.splice(at, 1);
  return mapState(entries);
}

function sameKeys(state: MapState, observed: readonly string[]): boolean {
  if (observed.length !== state.entries.length) return false;
  return [...observed].sort().every((k, i) => k === (state.entries[i] as readonly [string, string])[0]);
}

const EMPTY: MapState = mapState([]);

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
    const key = op.input.type === 'list' ? '' : op.input.key; // no list is left here; the test narrows the type
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
          const present = lookup(state, input.key);
          const legal = output.found ? present === valueKey(output.value) : present === undefined;
          return legal ? [state] : [];
        }
        case 'put':
          return [withValue(state, input.key, valueKey(input.value))];
        case 'create': {
          const present = lookup(state, input.key) !== undefined;
          const after = present ? state : withValue(state, input.key, valueKey(input.value));
          return output?.type !== 'create' || output.created !== present ? [after] : [];
        }
        case 'update': {
          assert(options.merge !== undefined, 'map: an update needs MapModelOptions.merge');
          const present = lookup(state, input.key);
          const after = present === undefined ? state : withValue(state, input.key, options.merge(present, input.value));
          return output?.type !== 'update' || output.existed === (present !== undefined) ? [after] : [];
        }
        case 'delete': {
          const present = lookup(state, input.key) !== undefined;
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
        case 'update':
          return `update(${input.key}, ${JSON.stringify(input.value)}) -> ${output?.type !== 'update' ? '?' : output.existed ? 'updated' : 'absent'}`;
        case 'delete':
          return `delete(${input.key}) -> ${output?.type !== 'delete' ? '?' : output.existed ? 'deleted' : 'absent'}`;
        case 'list':
          return `list() -> ${output?.type !== 'list' ? '?' : JSON.stringify([...output.keys].sort())}`;
      }
    },
  };
}
