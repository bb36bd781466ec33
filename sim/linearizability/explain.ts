// Renders why a partition is not linearizable: the longest prefix the search managed to linearize,
// the model state after it, and the operations real time allowed next, none of which leads to a
// full linearization. That is usually enough to see the anomaly (a stale read, a double create) at a glance.
import type { Failure, Model, Operation } from './types.ts';

/** Lines of prefix shown; earlier ones are summarised, since the anomaly sits at the end. */
const PREFIX_LINES_MAX = 20;
/** Lines of stuck operations shown. */
const STUCK_LINES_MAX = 20;

export function describeOperation<I, O>(model: Model<unknown, I, O>, op: Operation<I, O>): string {
  const what = model.describeOperation !== undefined
    ? model.describeOperation(op.input, op.output)
    : `${JSON.stringify(op.input)} -> ${op.output === undefined ? '?' : JSON.stringify(op.output)}`;
  const interval = op.output === undefined ? `[${op.call}, ?]` : `[${op.call}, ${op.return}]`;
  const unknown = op.output === undefined ? ' (outcome unknown)' : '';
  return `client ${op.clientId} ${interval} ${what}${unknown}`;
}

/**
 * The operations not in `prefix` that real time allows to go next: those called no later than the
 * earliest return among the remaining completed operations (A precedes B iff A.return < B.call).
 */
export function nextAfterPrefix<I, O>(ops: readonly Operation<I, O>[], prefix: readonly number[]): number[] {
  const done = new Set(prefix);
  let earliestReturn = Number.POSITIVE_INFINITY;
  ops.forEach((op, k) => {
    if (!done.has(k) && op.output !== undefined && (op.return as number) < earliestReturn) earliestReturn = op.return as number;
  });
  const next: number[] = [];
  ops.forEach((op, k) => {
    if (!done.has(k) && op.call <= earliestReturn) next.push(k);
  });
  return next;
}

export function failureOf<I, O>(
  partitionIndex: number,
  ops: readonly Operation<I, O>[],
  prefix: readonly number[],
): Failure<I, O> {
  const at = (k: number): Operation<I, O> => ops[k] as Operation<I, O>;
  return {
    partitionIndex,
    operations: ops,
    longestPrefix: prefix.map(at),
    stuckAt: nextAfterPrefix(ops, prefix).map(at),
  };
}

export function explainIllegal<S, I, O>(
  model: Model<S, I, O>,
  partitionCount: number,
  failure: Failure<I, O>,
  stateAfterPrefix: S,
): string {
  const m = model as Model<unknown, I, O>;
  const { partitionIndex, operations, longestPrefix, stuckAt } = failure;
  const lines: string[] = [
    `not linearizable: partition ${partitionIndex + 1} of ${partitionCount} (${operations.length} operations) has no linearization`,
    `longest linearizable prefix: ${longestPrefix.length} of ${operations.length} operations`,
  ];
  const hidden = Math.max(0, longestPrefix.length - PREFIX_LINES_MAX);
  if (hidden > 0) lines.push(`  ... ${hidden} earlier operations`);
  longestPrefix.slice(hidden).forEach((op, k) => lines.push(`  ${hidden + k + 1}. ${describeOperation(m, op)}`));
  const state = model.describeState !== undefined ? model.describeState(stateAfterPrefix) : model.hash(stateAfterPrefix);
  lines.push(`state after the prefix: ${state}`);
  lines.push('operations real time allows next (none of them extends the prefix to a full linearization):');
  stuckAt.slice(0, STUCK_LINES_MAX).forEach((op) => lines.push(`  - ${describeOperation(m, op)}`));
  if (stuckAt.length > STUCK_LINES_MAX) lines.push(`  ... ${stuckAt.length - STUCK_LINES_MAX} more`);
  return lines.join('\n');
}
