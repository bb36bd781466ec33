// The doubly linked list of call and return events that the WGL search walks (Lowe, "Testing for
// linearizability", 2017; Porcupine's `entry`). Linearizing an operation lifts its call and return
// nodes out of the list; backtracking puts them back, in O(1) each.
import { assert } from '../../raft/assert.ts';
import type { Operation } from './types.ts';

/**
 * One event. Invariant: a call node's `match` is its operation's return node, which comes later in
 * the list; a return node's `match` is null. The head sentinel has op -1.
 */
export interface EventNode {
  /** Index of the operation in its partition. */
  readonly op: number;
  readonly match: EventNode | null;
  /** The operation's outcome is unknown, so its return sits at +Infinity (after every known event). */
  readonly unknown: boolean;
  prev: EventNode | null;
  next: EventNode | null;
}

interface Event {
  readonly time: number;
  readonly isCall: boolean;
  readonly op: number;
}

/** Orders by time; at equal times calls come first, so touching intervals count as overlapping. */
function compareEvents(a: Event, b: Event): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  if (a.isCall !== b.isCall) return a.isCall ? -1 : 1;
  return a.op - b.op;
}

/** Builds the event list of `ops` and returns its head sentinel. */
export function buildEventList<I, O>(ops: readonly Operation<I, O>[]): EventNode {
  const events: Event[] = [];
  ops.forEach((op, k) => {
    const returnTime = op.output === undefined ? Number.POSITIVE_INFINITY : (op.return as number);
    events.push({ time: op.call, isCall: true, op: k }, { time: returnTime, isCall: false, op: k });
  });
  events.sort(compareEvents);

  // Return nodes first, so each call node can be built with its readonly match.
  const returns: (EventNode | undefined)[] = new Array<EventNode | undefined>(ops.length);
  for (const e of events) {
    if (!e.isCall) returns[e.op] = { op: e.op, match: null, unknown: (ops[e.op] as Operation<I, O>).output === undefined, prev: null, next: null };
  }
  const head: EventNode = { op: -1, match: null, unknown: false, prev: null, next: null };
  let last = head;
  for (const e of events) {
    const ret = returns[e.op];
    assert(ret !== undefined, `operation ${e.op} has no return node`);
    const node: EventNode = e.isCall ? { op: e.op, match: ret, unknown: ret.unknown, prev: null, next: null } : ret;
    node.prev = last;
    last.next = node;
    last = node;
  }
  return head;
}

/** Removes a call node and its return node from the list (the operation is now linearized). */
export function lift(call: EventNode): void {
  const ret = call.match as EventNode;
  (call.prev as EventNode).next = call.next;
  // A call always has its return somewhere after it, so call.next is never null.
  (call.next as EventNode).prev = call.prev;
  (ret.prev as EventNode).next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

/** Undoes `lift`; valid only in reverse order of lifting, which the search's stack guarantees. */
export function unlift(call: EventNode): void {
  const ret = call.match as EventNode;
  (ret.prev as EventNode).next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  (call.prev as EventNode).next = call;
  (call.next as EventNode).prev = call;
}
