// The typical timeline of one sequential produce, from the marks of the client and of every node
// (net/hop-trace.ts). Each record is the time from the client's send to its answer. Within it:
// - the node that marked `request` is L, its leader;
// - the other nodes are F1 and F2, in the order their first frame from L arrived;
// - peer ids in labels become roles too (send>F1, recv<L).
// An event is role:label#k, the k-th such mark in the record. Its row gives the median offset from the
// send, and the share of records that had it. Occasional events (a tick, a previous record's late
// follower) fall below `shareMin` and are left out.
import type { HopMark } from '../net/hop-trace.ts';

export interface TimelineRow {
  readonly event: string;
  readonly medianUs: number;
  /** Fraction of records with this event. */
  readonly share: number;
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[values.length >> 1] ?? 0;
}

/** Marks of every node, tagged with the node id, in time order. */
function merged(nodes: ReadonlyMap<number, readonly HopMark[]>): { us: number; node: number; label: string }[] {
  const all = [...nodes].flatMap(([node, marks]) => marks.map((m) => ({ us: m.us, node, label: m.label })));
  return all.sort((a, b) => a.us - b.us);
}

/** One record's events, named by role, with their offsets from the send. */
function recordEvents(sendUs: number, answerUs: number, inside: readonly { us: number; node: number; label: string }[]): Map<string, number> {
  const leader = inside.find((m) => m.label === 'request')?.node;
  const events = new Map<string, number>([['client:answer#1', answerUs - sendUs]]);
  if (leader === undefined) return events;
  const roles = new Map<number, string>([[leader, 'L']]);
  for (const m of inside) if (m.node !== leader && m.label === `recv<${leader}` && !roles.has(m.node)) roles.set(m.node, `F${roles.size}`);
  const role = (node: number): string => roles.get(node) ?? `n${node}`;
  const seen = new Map<string, number>();
  for (const m of inside) {
    const label = m.label.replace(/([<>])(\d+)$/, (_, dir: string, id: string) => dir + role(Number(id)));
    const name = `${role(m.node)}:${label}`;
    const k = (seen.get(name) ?? 0) + 1;
    seen.set(name, k);
    events.set(`${name}#${k}`, m.us - sendUs);
  }
  return events;
}

/**
 * The median timeline of the records the client marked (`send` then `answer`, one at a time), events
 * in order of their median offset.
 */
export function hopTimeline(client: readonly HopMark[], nodes: ReadonlyMap<number, readonly HopMark[]>, shareMin = 0.5): TimelineRow[] {
  const marks = merged(nodes);
  const offsets = new Map<string, number[]>();
  let records = 0;
  let first = 0;
  for (let i = 0; i + 1 < client.length; i++) {
    const send = client[i] as HopMark;
    const answer = client[i + 1] as HopMark;
    if (send.label !== 'send' || answer.label !== 'answer') continue;
    records++;
    while (first < marks.length && (marks[first] as { us: number }).us < send.us) first++;
    let end = first;
    while (end < marks.length && (marks[end] as { us: number }).us <= answer.us) end++;
    for (const [event, us] of recordEvents(send.us, answer.us, marks.slice(first, end))) {
      let list = offsets.get(event);
      if (list === undefined) offsets.set(event, (list = []));
      list.push(us);
    }
  }
  const rows: TimelineRow[] = [];
  for (const [event, list] of offsets) {
    const share = list.length / records;
    if (share >= shareMin) rows.push({ event, medianUs: Math.round(median(list)), share: Math.round(share * 100) / 100 });
  }
  return rows.sort((a, b) => a.medianUs - b.medianUs);
}
