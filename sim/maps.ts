// Get-or-create for the simulator's keyed bookkeeping (checkers, network links, workload progress). The
// makers are functions defined once, not closures per call: several of these run for every frame, apply
// or acknowledgement of a run.

/** The value at `key`, made by `make` and stored on first use. */
export function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

/** The inner map at `key` of a map of maps, created empty on first use. */
export function innerMap<K, K2, V>(outer: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}
