// Assertions catch programmer errors: a broken invariant means the code is wrong, and the only
// correct reaction to wrong code is to stop (TigerBeetle's TIGER_STYLE). Expected conditions
// (not leader, log compacted) are result values, never assertions.

export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, what: string): never {
  throw new AssertionError(`unreachable ${what}: ${JSON.stringify(value)}`);
}
