// Wing & Gong's search for a linearization of one partition, with Lowe's memoisation of
// (linearized set, model state) pairs, as Porcupine does it (porcupine/checker.go, checkSingle),
// written iteratively: the explicit stack of linearized calls replaces recursion, so a history of
// any length cannot overflow the JS stack.
//
// The walk: starting from the first event, try to linearize each call in turn (a call may go next
// only if no return precedes it in the remaining list, i.e. no pending operation finished before it
// was called). On success, lift the operation out of the list and restart from the front. Reaching a
// return event means that operation has not been linearized yet although every later call would
// have to follow it: backtrack the most recent choice.
//
// Unknown outcomes: their returns sit at +Infinity (entries.ts), so they may be linearized anywhere
// after their call, and the search succeeds once every completed operation is linearized, leaving
// any unknown ones out (they never took effect). The memo key is LinearizedSet.key() + model.hash.
import { assert } from '../../raft/assert.ts';
import { LinearizedSet } from './linearized-set.ts';
import type { StepBudget } from './budget.ts';
import { buildEventList, lift, unlift, type EventNode } from './entries.ts';
import type { Model, Operation } from './types.ts';

export type SearchOutcome<State> =
  | { readonly kind: 'ok' }
  /** `longestPrefix` holds operation indices in linearization order; `stateAfterPrefix` is the model state after them. */
  | { readonly kind: 'illegal'; readonly longestPrefix: readonly number[]; readonly stateAfterPrefix: State }
  | { readonly kind: 'budget' };

/** One linearized call on the stack, with what is needed to undo it or try its next outcome. */
interface Frame<State> {
  readonly call: EventNode;
  /** The model state before this operation. */
  readonly before: State;
  /** States the model allowed after it (more than one only for a nondeterministic model). */
  readonly candidates: readonly State[];
  /** Index into `candidates` of the next alternative to try on backtrack. */
  nextCandidate: number;
}

/**
 * Finds the first candidate at or after `from` whose (linearized, state) pair is new, records the pair
 * as seen and returns its index; -1 if all were seen. `linearized` must already include the operation.
 */
function firstUnseen<State>(
  model: Model<State, unknown, unknown>,
  candidates: readonly State[],
  from: number,
  linearized: LinearizedSet,
  seen: Set<string>,
): number {
  if (from >= candidates.length) return -1;
  const prefix = linearized.key();
  for (let k = from; k < candidates.length; k++) {
    const key = prefix + model.hash(candidates[k] as State);
    if (!seen.has(key)) {
      seen.add(key);
      return k;
    }
  }
  return -1;
}

/** Searches one partition for a linearization within `budget`. */
export function searchPartition<State, Input, Output>(
  model: Model<State, Input, Output>,
  ops: readonly Operation<Input, Output>[],
  budget: StepBudget,
): SearchOutcome<State> {
  const anyModel = model as Model<State, unknown, unknown>;
  const head = buildEventList(ops);
  const linearized = new LinearizedSet(ops.length, (k) => ops[k]?.output === undefined, (k) => (ops[k] as Operation<Input, Output>).call);
  const seen = new Set<string>();
  const stack: Frame<State>[] = [];
  let state = model.init();
  let longestPrefix: number[] = [];
  let stateAfterPrefix = state;
  // A linearization needs every completed operation; unknown ones may never take effect, so the
  // search succeeds as soon as this reaches 0, whatever unknown operations are still pending.
  let completedLeft = ops.filter((op) => op.output !== undefined).length;
  if (completedLeft === 0) return { kind: 'ok' };

  // Invariant: every node between head and `node` is a call already tried (and ruled out) from `state`.
  let node = head.next;
  while (node !== null) {
    if (!budget.spend()) return { kind: 'budget' };

    if (node.match !== null) {
      // A call: try to linearize it next.
      const op = ops[node.op] as Operation<Input, Output>;
      const candidates = model.step(state, op.input, op.output);
      linearized.add(node.op);
      const pick = firstUnseen(anyModel, candidates, 0, linearized, seen);
      if (pick < 0) {
        linearized.remove(node.op);
        node = node.next;
        continue;
      }
      stack.push({ call: node, before: state, candidates, nextCandidate: pick + 1 });
      state = candidates[pick] as State;
      lift(node);
      if (!node.unknown) completedLeft--;
      if (completedLeft === 0) return { kind: 'ok' };
      node = head.next;
      continue;
    }

    // A return: its operation is still pending although every call after it would have to follow it.
    // Unknown returns sit at +Infinity, after every completed one, so with completedLeft > 0 a
    // completed return always comes first.
    assert(!node.unknown, 'reached an unknown-outcome return while completed operations remain');
    // Every branch ends here at its deepest point, so recording the prefix now (rather than on each
    // lift) finds the longest one while copying the stack only when a branch beats the record.
    if (stack.length > longestPrefix.length) {
      longestPrefix = stack.map((f) => f.call.op);
      stateAfterPrefix = state;
    }

    const frame = stack.pop();
    if (frame === undefined) return { kind: 'illegal', longestPrefix, stateAfterPrefix };
    // The operation stays linearized at the same position if the model offers another outcome state.
    const pick = firstUnseen(anyModel, frame.candidates, frame.nextCandidate, linearized, seen);
    if (pick >= 0) {
      frame.nextCandidate = pick + 1;
      stack.push(frame);
      state = frame.candidates[pick] as State;
      node = head.next;
      continue;
    }
    linearized.remove(frame.call.op);
    unlift(frame.call);
    if (!frame.call.unknown) completedLeft++;
    state = frame.before;
    node = frame.call.next;
  }
  // Not reached in practice: completedLeft hits 0 (and returns) before the list can empty.
  return { kind: 'ok' };
}
