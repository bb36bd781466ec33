// The vocabulary of the linearizability checker: a sequential model of the object under test, the
// operations clients observed against it, and the checker's verdict. Plain data, no behaviour.

/**
 * One operation as a client observed it: the interval [call, return] in which it took effect.
 * Times are plain numbers (virtual milliseconds or a logical sequence). A precedes B iff
 * A.return < B.call; equal times mean the two overlap.
 *
 * Outcome unknown (a timeout, a crash, a dropped connection): `output` is undefined. Such an
 * operation may have taken effect at any point after `call`, or never, so its `return` is ignored
 * (a client giving up at time T does not stop the request from being applied after T) and the
 * checker treats it as returning at +Infinity. Because `undefined` means "unknown", an Output type
 * must never use `undefined` as a real answer: model "absent" as data (e.g. `{ found: false }`).
 */
export interface Operation<Input, Output> {
  readonly clientId: number;
  readonly input: Input;
  readonly call: number;
  /** undefined = outcome unknown: may take effect at any point after call, or never. */
  readonly output: Output | undefined;
  /** Required (finite, >= call) when output is known; ignored when output is undefined. */
  readonly return: number | undefined;
}

/**
 * A sequential specification. The checker only ever asks it: "from this state, can this operation
 * (input, observed output) happen, and which states can it lead to?"
 */
export interface Model<State, Input, Output> {
  init(): State;
  /**
   * The states reachable by applying `input` to `state` when the client observed `output`; empty if
   * that output is impossible from `state`. A deterministic model returns 0 or 1 states.
   * `output` undefined means the outcome is unknown: apply the input's effect without checking any
   * output (the checker separately allows the operation never to happen). States are treated as
   * immutable values: step must return new objects, never mutate `state`.
   */
  step(state: State, input: Input, output: Output | undefined): readonly State[];
  /** A stable key for memoisation: equal keys must mean interchangeable states (e.g. canonical JSON). */
  hash(state: State): string;
  /**
   * Splits a history into independent sub-histories (e.g. one per key), each checked on its own.
   * Sound only when no operation observes or changes two parts at once (Herlihy & Wing's locality:
   * a history is linearizable iff each object's sub-history is). May drop operations that constrain
   * nothing (a read whose outcome is unknown). Absent: the whole history is one partition.
   */
  partition?(ops: readonly Operation<Input, Output>[]): Operation<Input, Output>[][];
  /** Renders one operation for explanations; `output` undefined = outcome unknown. */
  describeOperation?(input: Input, output: Output | undefined): string;
  /** Renders a state for explanations; defaults to `hash`. */
  describeState?(state: State): string;
}

export interface CheckOptions {
  /** Wall-clock budget, measured with performance.now(). Machine-dependent: prefer stepsMax in tests and seeds. */
  readonly timeoutMs?: number;
  /** Search-step budget over all partitions (one step = one visit of an event in the WGL walk). Deterministic. */
  readonly stepsMax?: number;
}

/**
 * 'ok': a linearization exists for every partition.
 * 'illegal': some partition has none; `explanation` says which and how far the search got.
 * 'inconclusive': the step or time budget ran out before an answer. This is NOT a pass: a caller
 * that treats it as one would let an unchecked history through. Report it, raise the budget, or
 * shrink the history; never count it as 'ok'.
 */
export type Verdict = 'ok' | 'illegal' | 'inconclusive';

/** Where an illegal history got stuck, as data (the `explanation` string renders the same thing). */
export interface Failure<Input, Output> {
  /** Index into the model's partitions (in the order `partition` returned them). */
  readonly partitionIndex: number;
  /** The operations of the failing partition. */
  readonly operations: readonly Operation<Input, Output>[];
  /** The longest linearizable prefix the search found, in linearization order. */
  readonly longestPrefix: readonly Operation<Input, Output>[];
  /** Operations real time allowed right after the prefix; none of them extends it to a full linearization. */
  readonly stuckAt: readonly Operation<Input, Output>[];
}

export interface CheckResult<Input, Output> {
  readonly result: Verdict;
  /** How many partitions the history was split into (1 without a `partition` function). */
  readonly partitions: number;
  /** Search steps spent, over all partitions checked. */
  readonly steps: number;
  readonly elapsedMs: number;
  /** For 'illegal': the failing partition and the longest linearizable prefix; for 'inconclusive': which budget ran out. */
  readonly explanation?: string;
  /** For 'illegal' only. */
  readonly failure?: Failure<Input, Output>;
}
