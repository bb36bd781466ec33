// Encoding of ConfChange payloads carried by `conf` log entries. Membership changes are rare, so a
// small validated JSON document is plenty; validation matters because log bytes come from disk and peers.
import type { ConfChange, ConfChangeSingle, ConfChangeType, NodeId } from './types.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const CHANGE_TYPES: readonly ConfChangeType[] = ['addNode', 'addLearner', 'removeNode'];
const TRANSITIONS: readonly ConfChange['transition'][] = ['auto', 'implicit', 'explicit'];

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify({ t: cc.transition, c: cc.changes.map((x) => [x.type, x.nodeId]), x: cc.context }));
}

export type DecodeConfChangeResult = { readonly ok: true; readonly value: ConfChange } | { readonly ok: false; readonly error: string };

export function decodeConfChange(bytes: Uint8Array): DecodeConfChangeResult {
  let doc: unknown;
  try {
    doc = JSON.parse(decoder.decode(bytes));
  } catch {
    return { ok: false, error: 'conf change is not valid JSON' };
  }
  if (typeof doc !== 'object' || doc === null) return { ok: false, error: 'conf change is not an object' };
  const { t, c, x } = doc as { t?: unknown; c?: unknown; x?: unknown };
  if (!TRANSITIONS.includes(t as ConfChange['transition'])) return { ok: false, error: `bad transition ${String(t)}` };
  if (!Array.isArray(c)) return { ok: false, error: 'changes is not an array' };
  if (typeof x !== 'string') return { ok: false, error: 'context is not a string' };
  const changes: ConfChangeSingle[] = [];
  for (const item of c as unknown[]) {
    if (!Array.isArray(item) || item.length !== 2) return { ok: false, error: 'change is not a pair' };
    const [type, id] = item as [unknown, unknown];
    if (!CHANGE_TYPES.includes(type as ConfChangeType)) return { ok: false, error: `bad change type ${String(type)}` };
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) return { ok: false, error: `bad node id ${String(id)}` };
    changes.push({ type: type as ConfChangeType, nodeId: id as NodeId });
  }
  return { ok: true, value: { transition: t as ConfChange['transition'], changes, context: x } };
}
