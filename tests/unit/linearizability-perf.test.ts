// Performance sanity check of the linearizability checker on sim-sized histories: 2,000 operations
// of 5 concurrent clients over 20 keys. It prints the time and asserts only the verdicts: timings
// are measured, not asserted (DESIGN.md §9), and a slow machine must not fail the suite.
import { describe, expect, it } from 'vitest';
import { checkLinearizable, mapModel, type MapInput, type MapOutput, type Operation } from '../../sim/linearizability/index.ts';
import { SimRng } from '../../sim/rng.ts';

type MapOp = Operation<MapInput<number>, MapOutput<number>>;

interface Options {
  readonly seed: number;
  readonly operations: number;
  readonly clients: number;
  readonly keys: number;
  /** Share of list operations (each turns the whole history into one partition). */
  readonly listProbability: number;
  /** Share of operations whose outcome the client never learns. */
  readonly unknownProbability: number;
}

/**
 * Each client runs operations back to back; each operation takes effect at a random point inside its
 * interval, and outputs come from applying them to a plain Map in order of those points.
 */
function concurrentHistory(o: Options): MapOp[] {
  const rng = new SimRng(o.seed, 'linearizability-perf');
  const clientFreeAt = new Array<number>(o.clients).fill(0);
  const planned: { clientId: number; input: MapInput<number>; call: number; at: number; ret: number; unknown: boolean; applied: boolean }[] = [];
  for (let i = 0; i < o.operations; i++) {
    const clientId = rng.nextInt(o.clients);
    const call = clientFreeAt[clientId]! + rng.between(0, 5);
    const at = call + rng.between(0, 20);
    const ret = at + rng.between(0, 20);
    clientFreeAt[clientId] = ret;
    const key = `k${rng.nextInt(o.keys)}`;
    const roll = rng.nextFloat();
    const input: MapInput<number> = rng.chance(o.listProbability) ? { type: 'list' }
      : roll < 0.4 ? { type: 'get', key }
        : roll < 0.65 ? { type: 'put', key, value: rng.nextInt(10) }
          : roll < 0.85 ? { type: 'create', key, value: rng.nextInt(10) }
            : { type: 'delete', key };
    planned.push({ clientId, input, call, at, ret, unknown: rng.chance(o.unknownProbability), applied: rng.chance(0.5) });
  }

  const reference = new Map<string, number>();
  const outputs = new Map<number, MapOutput<number>>();
  // Ties in effect time may go in either order: both orders lie inside both intervals.
  const order = planned.map((_, k) => k).sort((a, b) => planned[a]!.at - planned[b]!.at);
  for (const k of order) {
    const p = planned[k]!;
    const effect = !p.unknown || p.applied;
    const input = p.input;
    switch (input.type) {
      case 'get': {
        const v = reference.get(input.key);
        outputs.set(k, v === undefined ? { type: 'get', found: false } : { type: 'get', found: true, value: v });
        break;
      }
      case 'put':
        if (effect) reference.set(input.key, input.value);
        outputs.set(k, { type: 'put' });
        break;
      case 'create': {
        const created = !reference.has(input.key);
        if (created && effect) reference.set(input.key, input.value);
        outputs.set(k, { type: 'create', created });
        break;
      }
      case 'delete':
        outputs.set(k, { type: 'delete', existed: reference.has(input.key) });
        if (effect) reference.delete(input.key);
        break;
      case 'list':
        outputs.set(k, { type: 'list', keys: [...reference.keys()] });
        break;
    }
  }
  return planned.map((p, k) => ({
    clientId: p.clientId,
    input: p.input,
    call: p.call,
    output: p.unknown ? undefined : outputs.get(k),
    return: p.unknown ? undefined : p.ret,
  }));
}

const base: Options = { seed: 42, operations: 2000, clients: 5, keys: 20, listProbability: 0, unknownProbability: 0.02 };

describe('linearizability checker performance (prints timings)', () => {
  const model = mapModel<number>();

  it('2,000 operations, 5 clients, 20 keys, per-key partitions: ok', () => {
    const r = checkLinearizable(model, concurrentHistory(base));
    console.log(`per-key: ${r.result}, ${r.partitions} partitions, ${r.steps} steps, ${r.elapsedMs.toFixed(1)} ms`);
    expect(r.result).toBe('ok');
    expect(r.partitions).toBe(20);
  });

  it('the same with list operations, checked as one whole-map partition: ok', () => {
    const r = checkLinearizable(model, concurrentHistory({ ...base, listProbability: 0.02 }));
    console.log(`whole-map: ${r.result}, ${r.partitions} partition, ${r.steps} steps, ${r.elapsedMs.toFixed(1)} ms`);
    expect(r.result).toBe('ok');
    expect(r.partitions).toBe(1);
  });

  it('the same with one read corrupted near the end: illegal', () => {
    const history = concurrentHistory(base);
    const k = history.findLastIndex((op) => op.input.type === 'get' && op.output !== undefined);
    history[k] = { ...history[k]!, output: { type: 'get', found: true, value: 999 } };
    const r = checkLinearizable(model, history);
    console.log(`corrupted: ${r.result}, ${r.steps} steps, ${r.elapsedMs.toFixed(1)} ms\n${r.explanation}`);
    expect(r.result).toBe('illegal');
  });
});
