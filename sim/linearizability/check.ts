// checkLinearizable: validates a history, lets the model split it into independent partitions,
// and runs the WGL search on each under one shared budget.
import { assert } from '../../raft/assert.ts';
import { CHECK_STEPS_MAX_DEFAULT, StepBudget } from './budget.ts';
import { explainIllegal, failureOf } from './explain.ts';
import { searchPartition } from './search.ts';
import type { CheckOptions, CheckResult, Model, Operation } from './types.ts';

/**
 * A malformed history is a bug in whoever recorded it, not an anomaly of the system under test, so
 * it fails an assertion rather than producing a verdict.
 */
function assertWellFormed<I, O>(history: readonly Operation<I, O>[]): void {
  history.forEach((op, k) => {
    assert(Number.isFinite(op.call), `operation ${k}: call time ${op.call} is not a finite number`);
    if (op.output === undefined) return;
    assert(op.return !== undefined, `operation ${k}: has an output but no return time`);
    assert(Number.isFinite(op.return), `operation ${k}: return time ${op.return} is not a finite number`);
    assert(op.return >= op.call, `operation ${k}: returns (${op.return}) before it is called (${op.call})`);
  });
}

/**
 * Is `history` linearizable with respect to `model`? Partitions are checked in the order the model
 * returns them and the first illegal one ends the check. Budgets (`stepsMax`, default
 * CHECK_STEPS_MAX_DEFAULT, and `timeoutMs`) are shared by all partitions; when one runs out the
 * result is 'inconclusive', which must never be counted as a pass.
 */
export function checkLinearizable<State, Input, Output>(
  model: Model<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<Input, Output> {
  const startedMs = performance.now();
  assertWellFormed(history);
  const stepsMax = options.stepsMax ?? CHECK_STEPS_MAX_DEFAULT;
  assert(stepsMax >= 0, `stepsMax ${stepsMax} is negative`);
  const deadlineMs = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : startedMs + options.timeoutMs;
  const budget = new StepBudget(stepsMax, deadlineMs);
  const partitions = model.partition !== undefined ? model.partition(history) : [history];

  const finish = (result: CheckResult<Input, Output>['result'], extra: Pick<CheckResult<Input, Output>, 'explanation' | 'failure'> = {}): CheckResult<Input, Output> => ({
    result,
    partitions: partitions.length,
    steps: budget.steps,
    elapsedMs: performance.now() - startedMs,
    ...extra,
  });

  for (let p = 0; p < partitions.length; p++) {
    const ops = partitions[p] as readonly Operation<Input, Output>[];
    const outcome = searchPartition(model, ops, budget);
    if (outcome.kind === 'illegal') {
      const failure = failureOf(p, ops, outcome.longestPrefix);
      return finish('illegal', { explanation: explainIllegal(model, partitions.length, failure, outcome.stateAfterPrefix), failure });
    }
    if (outcome.kind === 'budget') {
      const limit = budget.exhausted === 'time' ? `timeoutMs ${options.timeoutMs}` : `stepsMax ${stepsMax}`;
      return finish('inconclusive', {
        explanation: `inconclusive (not a pass): ${limit} ran out in partition ${p + 1} of ${partitions.length} (${ops.length} operations) after ${budget.steps} steps; ${p} partitions were linearizable`,
      });
    }
  }
  return finish('ok');
}
