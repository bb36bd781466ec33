// Properties of the linearizability checker:
// - its memoisation key identifies a set of linearized operations exactly;
// - on small random register histories it agrees with a brute-force search over every ordering
//   (written independently of the models, as etcd's quorum/quick_test.go checks against a naive sort);
// - histories produced by a sequential execution of a reference map, with intervals drawn around
//   each operation's linearization point, are always 'ok';
// - the same histories with one read changed to a value nobody wrote are always 'illegal'.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkLinearizable,
  mapModel,
  registerModel,
  type MapInput,
  type MapOutput,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
} from '../../sim/linearizability/index.ts';
import { LinearizedSet } from '../../sim/linearizability/linearized-set.ts';

// ---- the memoisation key ----

describe('LinearizedSet keys', () => {
  it('are equal exactly when the sets are equal (compared with a plain Set)', () => {
    const scenario = fc.integer({ min: 1, max: 70 }).chain((n) =>
      fc.record({
        unknown: fc.array(fc.integer({ min: 0, max: 5 }).map((x) => x === 0), { minLength: n, maxLength: n }),
        // Sorted calls make bit order follow op order, so `filled` really fills whole leading words.
        calls: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: n, maxLength: n }).map((c) => c.sort((a, b) => a - b)),
        filled: fc.nat(n),
        toggles: fc.array(fc.nat(n - 1), { maxLength: 300 }),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ unknown, calls, filled, toggles }) => {
        const set = new LinearizedSet(calls.length, (k) => unknown[k]!, (k) => calls[k]!);
        const members = new Set<number>();
        const keyOf = new Map<string, string>();
        const setOf = new Map<string, string>();
        const prefix = Array.from({ length: filled }, (_, k) => k);
        for (const op of [...prefix, ...toggles]) {
          if (members.has(op)) {
            members.delete(op);
            set.remove(op);
          } else {
            members.add(op);
            set.add(op);
          }
          const canonical = [...members].sort((a, b) => a - b).join(',');
          const key = set.key();
          expect(keyOf.get(canonical) ?? key).toBe(key);
          expect(setOf.get(key) ?? canonical).toBe(canonical);
          keyOf.set(canonical, key);
          setOf.set(key, canonical);
        }
      }),
      { numRuns: 500 },
    );
  });
});

// ---- brute force over a register ----

type RegOp = Operation<RegisterInput<number>, RegisterOutput<number>>;

/** Applies op to the register value: the new value, or null if the observed output is impossible. */
function applyRegister(value: number, op: RegOp): number | null {
  const { input, output } = op;
  if (input.type === 'write') return input.value;
  if (input.type === 'read') return output === undefined || (output.type === 'read' && output.value === value) ? value : null;
  const matches = value === input.expected;
  if (output !== undefined && output.type === 'cas' && output.ok !== matches) return null;
  return matches ? input.value : value;
}

/**
 * Is there an order of all completed operations plus any subset of unknown ones, respecting real
 * time (A before B whenever A.return < B.call), that the register accepts? Tries every order.
 */
function bruteForceLinearizable(history: readonly RegOp[], initial: number): boolean {
  const placed = new Array<boolean>(history.length).fill(false);
  const mustPlace = history.filter((op) => op.output !== undefined).length;
  const search = (value: number, placedCompleted: number): boolean => {
    if (placedCompleted === mustPlace) return true;
    for (let b = 0; b < history.length; b++) {
      if (placed[b]) continue;
      const op = history[b]!;
      const blocked = history.some((a, k) => !placed[k] && a.output !== undefined && a.return! < op.call);
      if (blocked) continue;
      const next = applyRegister(value, op);
      if (next === null) continue;
      placed[b] = true;
      const found = search(next, placedCompleted + (op.output !== undefined ? 1 : 0));
      placed[b] = false;
      if (found) return true;
    }
    return false;
  };
  return search(initial, 0);
}

const regValue = fc.integer({ min: 0, max: 2 });
const regInput: fc.Arbitrary<RegisterInput<number>> = fc.oneof(
  fc.constant({ type: 'read' as const }),
  regValue.map((value) => ({ type: 'write' as const, value })),
  fc.tuple(regValue, regValue).map(([expected, value]) => ({ type: 'cas' as const, expected, value })),
);

/** Any history at all (mostly not linearizable): random inputs, random outputs, some unknown. */
const randomRegisterHistory: fc.Arbitrary<RegOp[]> = fc.array(
  fc.record({
    clientId: fc.nat(3),
    input: regInput,
    call: fc.integer({ min: 0, max: 20 }),
    length: fc.integer({ min: 0, max: 10 }),
    readValue: regValue,
    casOk: fc.boolean(),
    unknown: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))),
  }).map(({ clientId, input, call, length, readValue, casOk, unknown }): RegOp => {
    const output: RegisterOutput<number> = input.type === 'read' ? { type: 'read', value: readValue } : input.type === 'write' ? { type: 'write' } : { type: 'cas', ok: casOk };
    return { clientId, input, call, output: unknown ? undefined : output, return: unknown ? undefined : call + length };
  }),
  { maxLength: 7 },
);

describe('checker agrees with brute force on small register histories', () => {
  it('same verdict as trying every order', () => {
    const model = registerModel(0);
    fc.assert(
      fc.property(randomRegisterHistory, (history) => {
        const expected = bruteForceLinearizable(history, 0) ? 'ok' : 'illegal';
        expect(checkLinearizable(model, history).result).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });
});

// ---- histories from a sequential execution of a reference map ----

type MapOp = Operation<MapInput<number>, MapOutput<number>>;

interface PlannedOp {
  readonly input: MapInput<number>;
  /** How long before / after its linearization point the operation was called / returned. */
  readonly lead: number;
  readonly lag: number;
  /** The client never learnt the outcome; `applied` says whether it took effect anyway. */
  readonly unknown: boolean;
  readonly applied: boolean;
}

const KEYS = ['a', 'b', 'c', 'd'];
const key = fc.constantFrom(...KEYS);
const value = fc.integer({ min: 0, max: 4 });
/** A value no plan ever writes. */
const NEVER_WRITTEN = 999;

function plannedOps(withList: boolean): fc.Arbitrary<PlannedOp[]> {
  const input: fc.Arbitrary<MapInput<number>> = fc.oneof(
    { weight: 4, arbitrary: key.map((k) => ({ type: 'get' as const, key: k })) },
    { weight: 2, arbitrary: fc.tuple(key, value).map(([k, v]) => ({ type: 'put' as const, key: k, value: v })) },
    { weight: 2, arbitrary: fc.tuple(key, value).map(([k, v]) => ({ type: 'create' as const, key: k, value: v })) },
    { weight: 2, arbitrary: key.map((k) => ({ type: 'delete' as const, key: k })) },
    { weight: 1, arbitrary: fc.tuple(key, value).map(([k, v]) => ({ type: 'update' as const, key: k, value: v })) },
    { weight: withList ? 1 : 0, arbitrary: fc.constant({ type: 'list' as const }) },
  );
  return fc.array(
    fc.record({
      input,
      lead: fc.integer({ min: 0, max: 25 }),
      lag: fc.integer({ min: 0, max: 25 }),
      unknown: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      applied: fc.boolean(),
    }),
    { maxLength: 40 },
  );
}

/**
 * Runs the plan against a plain Map in order, operation i taking effect at time 10·i, and records
 * each one over [10·i − lead, 10·i + lag]. Every such history is linearizable by construction.
 */
function execute(plan: readonly PlannedOp[]): MapOp[] {
  const reference = new Map<string, number>();
  return plan.map((p, i): MapOp => {
    const at = 10 * i;
    const takesEffect = !p.unknown || p.applied;
    let output: MapOutput<number>;
    const input = p.input;
    switch (input.type) {
      case 'get': {
        const v = reference.get(input.key);
        output = v === undefined ? { type: 'get', found: false } : { type: 'get', found: true, value: v };
        break;
      }
      case 'put':
        if (takesEffect) reference.set(input.key, input.value);
        output = { type: 'put' };
        break;
      case 'create': {
        const created = !reference.has(input.key);
        if (created && takesEffect) reference.set(input.key, input.value);
        output = { type: 'create', created };
        break;
      }
      case 'update': {
        const existed = reference.has(input.key);
        if (existed && takesEffect) reference.set(input.key, input.value);
        output = { type: 'update', existed };
        break;
      }
      case 'delete': {
        const existed = reference.has(input.key);
        if (takesEffect) reference.delete(input.key);
        output = { type: 'delete', existed };
        break;
      }
      case 'list':
        output = { type: 'list', keys: [...reference.keys()] };
        break;
    }
    return p.unknown
      ? { clientId: i % 5, input, call: at - p.lead, output: undefined, return: undefined }
      : { clientId: i % 5, input, call: at - p.lead, output, return: at + p.lag };
  });
}

/** Indices of completed gets, the reads a mutation can corrupt. */
function completedGets(history: readonly MapOp[]): number[] {
  return history.flatMap((op, k) => (op.input.type === 'get' && op.output !== undefined ? [k] : []));
}

describe('histories of a sequential reference map', () => {
  // An update replaces the value of a present key.
  const model = mapModel<number>({ merge: (_current, patch) => JSON.stringify(patch) });

  for (const withList of [false, true]) {
    const label = withList ? 'with list (whole-map)' : 'per key';

    it(`are always ok (${label})`, () => {
      fc.assert(
        fc.property(plannedOps(withList), (plan) => {
          const r = checkLinearizable(model, execute(plan));
          expect(r.result, r.explanation).toBe('ok');
        }),
        { numRuns: 500 },
      );
    });

    it(`are always illegal once one read returns a never-written value (${label})`, () => {
      fc.assert(
        fc.property(plannedOps(withList), fc.nat(), (plan, pick) => {
          const history = execute(plan);
          const gets = completedGets(history);
          fc.pre(gets.length > 0);
          const k = gets[pick % gets.length]!;
          const victim = history[k]!;
          history[k] = { ...victim, output: { type: 'get', found: true, value: NEVER_WRITTEN } };
          const r = checkLinearizable(model, history);
          expect(r.result).toBe('illegal');
          expect(r.explanation).toContain('not linearizable');
        }),
        { numRuns: 500 },
      );
    });
  }
});
