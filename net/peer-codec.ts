// Frames ↔ bytes for the peer protocol (net/proto/keel/v1/peer.proto). Encoding trusts its input: frames
// come from our own core. Decoding trusts nothing: the bytes come off the network, so every id, term,
// index, enum and size is checked and the result is a value, never an exception (a garbage frame must not
// crash a node; it is counted and dropped by the transport).
import type { Frame, GroupMessage, NodeRpc } from '../broker/ports.ts';
import type { ConfState, Entry, EntryType, Index, Message, NodeId, SnapshotMeta, Term } from '../raft/types.ts';
import {
  decodeWireFrame, ENTRY_TYPE_CONF, ENTRY_TYPE_NORMAL, RPC_KIND_REQUEST, RPC_KIND_RESPONSE, RPC_KIND_UNANSWERED,
  type WireConfState, type WireEntry, type WireFrame, type WireNodeRpc, type WireRaftMessage, type WireSnapshotMeta, type WireUint,
} from './peer-schema.ts';

/** What a decoder accepts. Generous next to what the core produces, tight next to what memory allows. */
export const PEER_CODEC_LIMITS = {
  /** Also the gRPC message size limit of the peer stream. */
  frameBytesMax: 64 << 20,
  messagesPerFrameMax: 1 << 20,
  entriesPerMessageMax: 1 << 20,
  rpcsPerFrameMax: 1 << 16,
  /** Members in each list of a ConfState. */
  membersPerListMax: 1 << 12,
  /** Read-index contexts (request ids). */
  contextCharsMax: 1 << 12,
  methodCharsMax: 256,
  rpcBodyBytesMax: 16 << 20,
} as const;

export type DecodeResult = { readonly ok: true; readonly frame: Frame } | { readonly ok: false; readonly error: string };

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);

// Encoding lives in net/peer-frame-writer.ts (written field by field, for speed).
export { encodeFrame } from './peer-frame-writer.ts';

// ---- decode ---------------------------------------------------------------------------------------

/** Thrown inside the decoder only; decodeFrame turns it into an error value. */
class Invalid extends Error {}

function invalid(what: string): never {
  throw new Invalid(what);
}

/** Decodes and validates a frame. Never throws: malformed or out-of-range input is an error value. */
export function decodeFrame(bytes: Uint8Array): DecodeResult {
  if (bytes.byteLength > PEER_CODEC_LIMITS.frameBytesMax) return { ok: false, error: `frame of ${bytes.byteLength} bytes exceeds ${PEER_CODEC_LIMITS.frameBytesMax}` };
  let wire: WireFrame;
  try {
    wire = decodeWireFrame(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    return { ok: false, error: `malformed frame: ${err instanceof Error ? err.message : String(err)}` };
  }
  try {
    return { ok: true, frame: fromWireFrame(wire) };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, error: `invalid frame: ${err.message}` };
    // Anything else is a bug in this file, but a peer's bytes still must not take the node down.
    return { ok: false, error: `undecodable frame: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function uint(v: WireUint | null | undefined, what: string): number {
  // Absent fields read protobufjs's default, a Long zero; present ones are numbers (NumberReader).
  const n = typeof v === 'number' ? v : v === null || v === undefined ? NaN : v.high * 2 ** 32 + (v.low >>> 0);
  if (!Number.isSafeInteger(n) || n < 0) invalid(`${what} is not a non-negative safe integer`);
  return n;
}

function positive(v: WireUint | null | undefined, what: string): number {
  const n = uint(v, what);
  if (n === 0) invalid(`${what} must be positive`);
  return n;
}

const nodeIdOf = (v: WireUint, what: string): NodeId => positive(v, what) as NodeId;
const termOf = (v: WireUint, what: string): Term => uint(v, what) as Term;
const indexOf = (v: WireUint, what: string): Index => uint(v, what) as Index;

function bounded<T>(list: readonly T[] | null | undefined, max: number, what: string): readonly T[] {
  if (list === null || list === undefined) return [];
  if (list.length > max) invalid(`${list.length} ${what} exceed ${max}`);
  return list;
}

function text(s: string | null | undefined, max: number, what: string): string {
  if (typeof s !== 'string') return '';
  if (s.length > max) invalid(`${what} of ${s.length} chars exceeds ${max}`);
  return s;
}

/**
 * A plain Uint8Array view of decoded bytes (protobufjs hands out Buffer views, whose slice() does not
 * copy, a trap for core code). Not a copy: copying every entry cost more than the whole protobuf decode.
 * A view pins the frame's receive buffer while the entry lives, but a frame's bytes are mostly its
 * entries, which live and are compacted together, so little is pinned for nothing.
 */
function bytesOf(b: Uint8Array | null | undefined): Uint8Array {
  return b === null || b === undefined || b.byteLength === 0 ? new Uint8Array(0) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function required<T>(v: T | null | undefined, what: string): T {
  if (v === null || v === undefined) invalid(`${what} is missing`);
  return v;
}

function fromWireFrame(w: WireFrame): Frame {
  const from = nodeIdOf(w.from, 'frame.from');
  const to = nodeIdOf(w.to, 'frame.to');
  const messages: GroupMessage[] = bounded(w.messages, PEER_CODEC_LIMITS.messagesPerFrameMax, 'messages').map((gm) => ({
    group: uint(gm.group, 'group'),
    msg: fromWireMessage(required(gm.msg, 'group message body')),
  }));
  const rpcs = bounded(w.rpcs, PEER_CODEC_LIMITS.rpcsPerFrameMax, 'rpcs').map(fromWireRpc);
  return { from, to, fromIncarnation: uint(w.fromIncarnation ?? 0, 'frame.from_incarnation'), messages, rpcs };
}

function fromWireRpc(w: WireNodeRpc): NodeRpc {
  const kind = w.kind === RPC_KIND_REQUEST ? 'request' : w.kind === RPC_KIND_RESPONSE ? 'response' : w.kind === RPC_KIND_UNANSWERED ? 'unanswered' : invalid(`unknown rpc kind ${w.kind}`);
  const body = w.body ?? EMPTY;
  if (body.byteLength > PEER_CODEC_LIMITS.rpcBodyBytesMax) invalid(`rpc body of ${body.byteLength} bytes exceeds ${PEER_CODEC_LIMITS.rpcBodyBytesMax}`);
  let value: unknown = undefined;
  if (body.byteLength > 0) {
    try {
      value = JSON.parse(utf8Decoder.decode(body), encodableNumbersOnly);
    } catch {
      invalid('rpc body is not UTF-8 JSON (with finite numbers)');
    }
  }
  return { kind, id: uint(w.id, 'rpc.id'), method: text(w.method, PEER_CODEC_LIMITS.methodCharsMax, 'rpc.method'), body: value, toIncarnation: uint(w.toIncarnation ?? 0, 'rpc.to_incarnation') };
}

/**
 * JSON.parse reviver. A number beyond a double ("1e999") parses to Infinity, and "-0" to -0; our encoder
 * writes neither (JSON.stringify gives null and 0), so such bytes are damaged, and accepting them would
 * hand the node a body that does not re-encode to itself.
 */
function encodableNumbersOnly(_key: string, v: unknown): unknown {
  if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) throw new RangeError('number JSON cannot carry');
  return v;
}

function fromWireEntry(w: WireEntry): Entry {
  const type: EntryType = w.type === ENTRY_TYPE_NORMAL ? 'normal' : w.type === ENTRY_TYPE_CONF ? 'conf' : invalid(`unknown entry type ${w.type}`);
  return { term: termOf(w.term, 'entry.term'), index: indexOf(w.index, 'entry.index'), type, data: bytesOf(w.data) };
}

function members(list: WireUint[] | null | undefined, what: string): NodeId[] {
  return bounded(list, PEER_CODEC_LIMITS.membersPerListMax, what).map((v) => nodeIdOf(v, what));
}

function fromWireConfState(w: WireConfState): ConfState {
  return {
    voters: members(w.voters, 'voters'),
    learners: members(w.learners, 'learners'),
    votersOutgoing: members(w.votersOutgoing, 'votersOutgoing'),
    learnersNext: members(w.learnersNext, 'learnersNext'),
    autoLeave: w.autoLeave === true,
  };
}

function fromWireMeta(w: WireSnapshotMeta): SnapshotMeta {
  return { index: indexOf(w.index, 'snapshot.index'), term: termOf(w.term, 'snapshot.term'), confState: fromWireConfState(required(w.confState, 'confState')) };
}

function fromWireMessage(w: WireRaftMessage): Message {
  // Object literals with the envelope spelled out, not spread: this runs once per message per frame.
  const from = nodeIdOf(w.from, 'msg.from');
  const to = nodeIdOf(w.to, 'msg.to');
  const term = termOf(w.term, 'msg.term');
  switch (w.body) {
    case 'app': {
      const b = required(w.app, 'app');
      const entries = bounded(b.entries, PEER_CODEC_LIMITS.entriesPerMessageMax, 'entries').map(fromWireEntry);
      return { type: 'app', from, to, term, index: indexOf(b.index, 'index'), logTerm: termOf(b.logTerm, 'logTerm'), entries, commit: indexOf(b.commit, 'commit') };
    }
    case 'appResp': {
      const b = required(w.appResp, 'appResp');
      return { type: 'appResp', from, to, term, index: indexOf(b.index, 'index'), reject: b.reject === true, rejectHint: indexOf(b.rejectHint, 'rejectHint'), logTerm: termOf(b.logTerm, 'logTerm') };
    }
    case 'vote':
    case 'preVote': {
      const b = required(w.body === 'vote' ? w.vote : w.preVote, w.body);
      return { type: w.body, from, to, term, index: indexOf(b.index, 'index'), logTerm: termOf(b.logTerm, 'logTerm'), transfer: b.transfer === true };
    }
    case 'voteResp':
    case 'preVoteResp': {
      const b = required(w.body === 'voteResp' ? w.voteResp : w.preVoteResp, w.body);
      return { type: w.body, from, to, term, reject: b.reject === true };
    }
    case 'heartbeat': {
      const b = required(w.heartbeat, 'heartbeat');
      return { type: 'heartbeat', from, to, term, commit: indexOf(b.commit, 'commit'), context: context(b.context) };
    }
    case 'heartbeatResp':
      return { type: 'heartbeatResp', from, to, term, context: context(required(w.heartbeatResp, 'heartbeatResp').context) };
    case 'snap': {
      const b = required(w.snap, 'snap');
      const offset = uint(b.offset, 'snap.offset');
      const totalBytes = uint(b.totalBytes, 'snap.totalBytes');
      const chunk = bytesOf(b.chunk);
      if (offset + chunk.byteLength > totalBytes) invalid('snapshot chunk runs past totalBytes');
      return { type: 'snap', from, to, term, meta: fromWireMeta(required(b.meta, 'snap.meta')), offset, totalBytes, chunk };
    }
    case 'snapResp': {
      const b = required(w.snapResp, 'snapResp');
      return { type: 'snapResp', from, to, term, snapIndex: indexOf(b.snapIndex, 'snapIndex'), nextOffset: uint(b.nextOffset, 'nextOffset'), reject: b.reject === true };
    }
    case 'timeoutNow':
      return { type: 'timeoutNow', from, to, term };
    case 'readIndex':
      return { type: 'readIndex', from, to, term, context: context(required(w.readIndex, 'readIndex').context) };
    case 'readIndexResp': {
      const b = required(w.readIndexResp, 'readIndexResp');
      return { type: 'readIndexResp', from, to, term, index: indexOf(b.index, 'index'), context: context(b.context), reject: b.reject === true };
    }
    default:
      return invalid(`unknown message type ${JSON.stringify(w.body ?? null)}`);
  }
}

function context(s: string | null | undefined): string {
  return text(s, PEER_CODEC_LIMITS.contextCharsMax, 'context');
}
