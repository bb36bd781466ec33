// A general linearizability checker (Wing & Gong's search with Lowe's memoisation, as in Porcupine)
// and ready models for a register and a key-value map / topic catalogue.
export type { CheckOptions, CheckResult, Failure, Model, Operation, Verdict } from './types.ts';
export { checkLinearizable } from './check.ts';
export { CHECK_STEPS_MAX_DEFAULT } from './budget.ts';
export * from './models.ts';
