// Frames → bytes, field by field, on protobufjs's Writer. The generated encoder (FrameType.encode) takes
// plain objects and tests all 13 of RaftMessage's oneof fields on every message; fed one object shape
// per message type, those property loads go megamorphic and miss into the runtime (perf showed
// LoadIC_Miss under the encoder), and a one-entry frame cost about 20 µs on the leader's critical path.
// Field numbers are read from the loaded peer.proto, so the .proto file stays the single source of
// truth; tests/net/peer-codec.test.ts decodes everything written here with the generated decoder.
// Scalars equal to their default are left out, as proto3 does; message fields are always written (an
// empty TimeoutNow still says which oneof case is set).
import protobuf from 'protobufjs';
import type { Frame, GroupMessage, NodeRpc } from '../broker/ports.ts';
import { unreachable } from '../raft/assert.ts';
import type { ConfState, Entry, Message, SnapshotMeta } from '../raft/types.ts';
import { ENTRY_TYPE_CONF, ENTRY_TYPE_NORMAL, fieldNumber, RPC_KIND_REQUEST, RPC_KIND_RESPONSE, RPC_KIND_UNANSWERED } from './peer-schema.ts';

type Writer = protobuf.Writer;

const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** Tags (field number and wire type) of one message type, by field name. */
function tags<const F extends string>(type: string, varints: readonly F[], delimited: readonly F[] = []): Record<F, number> {
  const out = {} as Record<F, number>;
  for (const f of varints) out[f] = (fieldNumber(type, f) << 3) | VARINT;
  for (const f of delimited) out[f] = (fieldNumber(type, f) << 3) | LENGTH_DELIMITED;
  return out;
}

const FRAME = tags('Frame', ['from', 'to', 'fromIncarnation'], ['messages', 'rpcs']);
const GROUP_MESSAGE = tags('GroupMessage', ['group'], ['msg']);
const MSG = tags('RaftMessage', ['from', 'to', 'term'], [
  'app', 'appResp', 'vote', 'preVote', 'voteResp', 'preVoteResp', 'heartbeat', 'heartbeatResp', 'snap', 'snapResp', 'timeoutNow', 'readIndex', 'readIndexResp',
]);
const APP = tags('App', ['index', 'logTerm', 'commit'], ['entries']);
const APP_RESP = tags('AppResp', ['index', 'reject', 'rejectHint', 'logTerm']);
const VOTE = tags('Vote', ['index', 'logTerm', 'transfer']);
const VOTE_RESP = tags('VoteResp', ['reject']);
const HEARTBEAT = tags('Heartbeat', ['commit'], ['context']);
const HEARTBEAT_RESP = tags('HeartbeatResp', [], ['context']);
const SNAP = tags('Snap', ['offset', 'totalBytes'], ['meta', 'chunk']);
const SNAP_RESP = tags('SnapResp', ['snapIndex', 'nextOffset', 'reject']);
const READ_INDEX = tags('ReadIndex', [], ['context']);
const READ_INDEX_RESP = tags('ReadIndexResp', ['index', 'reject'], ['context']);
const ENTRY = tags('Entry', ['term', 'index', 'type'], ['data']);
const META = tags('SnapshotMeta', ['index', 'term'], ['confState']);
const CONF_STATE = tags('ConfState', ['autoLeave'], ['voters', 'learners', 'votersOutgoing', 'learnersNext']);
const RPC = tags('NodeRpc', ['kind', 'id', 'toIncarnation'], ['method', 'body']);

const utf8Encoder = new TextEncoder();

/** A non-negative safe integer as a varint (uint64 on the wire); uint32 is the cheap path below 2^32. */
function varint(w: Writer, v: number): void {
  if (v <= 0xffff_ffff) w.uint32(v);
  else w.uint64(v);
}

function uint(w: Writer, tag: number, v: number): void {
  if (v === 0) return;
  w.uint32(tag);
  varint(w, v);
}

function bool(w: Writer, tag: number, v: boolean): void {
  if (v) w.uint32(tag).bool(true);
}

function text(w: Writer, tag: number, s: string): void {
  if (s.length > 0) w.uint32(tag).string(s);
}

function bytes(w: Writer, tag: number, b: Uint8Array): void {
  if (b.byteLength > 0) w.uint32(tag).bytes(b);
}

/** Packed repeated uint64. */
function uints(w: Writer, tag: number, list: readonly number[]): void {
  if (list.length === 0) return;
  w.uint32(tag).fork();
  for (const v of list) varint(w, v);
  w.ldelim();
}

/** Encodes a frame; the input comes from our own core and is trusted. */
export function encodeFrame(frame: Frame): Uint8Array {
  const w = protobuf.Writer.create();
  uint(w, FRAME.from, frame.from);
  uint(w, FRAME.to, frame.to);
  for (const gm of frame.messages) writeGroupMessage(w, gm);
  for (const rpc of frame.rpcs) writeRpc(w, rpc);
  uint(w, FRAME.fromIncarnation, frame.fromIncarnation);
  return w.finish();
}

function writeGroupMessage(w: Writer, gm: GroupMessage): void {
  w.uint32(FRAME.messages).fork();
  uint(w, GROUP_MESSAGE.group, gm.group);
  w.uint32(GROUP_MESSAGE.msg).fork();
  writeMessage(w, gm.msg);
  w.ldelim();
  w.ldelim();
}

/** RPC bodies are JSON; an undefined body travels as no bytes. A body JSON cannot represent throws. */
function writeRpc(w: Writer, rpc: NodeRpc): void {
  w.uint32(FRAME.rpcs).fork();
  uint(w, RPC.kind, rpc.kind === 'request' ? RPC_KIND_REQUEST : rpc.kind === 'response' ? RPC_KIND_RESPONSE : RPC_KIND_UNANSWERED);
  uint(w, RPC.id, rpc.id);
  text(w, RPC.method, rpc.method);
  const json = JSON.stringify(rpc.body) as string | undefined;
  if (json !== undefined) bytes(w, RPC.body, utf8Encoder.encode(json));
  uint(w, RPC.toIncarnation, rpc.toIncarnation);
  w.ldelim();
}

function writeMessage(w: Writer, m: Message): void {
  uint(w, MSG.from, m.from);
  uint(w, MSG.to, m.to);
  uint(w, MSG.term, m.term);
  switch (m.type) {
    case 'app':
      w.uint32(MSG.app).fork();
      uint(w, APP.index, m.index);
      uint(w, APP.logTerm, m.logTerm);
      for (const e of m.entries) writeEntry(w, e);
      uint(w, APP.commit, m.commit);
      break;
    case 'appResp':
      w.uint32(MSG.appResp).fork();
      uint(w, APP_RESP.index, m.index);
      bool(w, APP_RESP.reject, m.reject);
      uint(w, APP_RESP.rejectHint, m.rejectHint);
      uint(w, APP_RESP.logTerm, m.logTerm);
      break;
    case 'vote':
    case 'preVote':
      w.uint32(m.type === 'vote' ? MSG.vote : MSG.preVote).fork();
      uint(w, VOTE.index, m.index);
      uint(w, VOTE.logTerm, m.logTerm);
      bool(w, VOTE.transfer, m.transfer);
      break;
    case 'voteResp':
    case 'preVoteResp':
      w.uint32(m.type === 'voteResp' ? MSG.voteResp : MSG.preVoteResp).fork();
      bool(w, VOTE_RESP.reject, m.reject);
      break;
    case 'heartbeat':
      w.uint32(MSG.heartbeat).fork();
      uint(w, HEARTBEAT.commit, m.commit);
      text(w, HEARTBEAT.context, m.context);
      break;
    case 'heartbeatResp':
      w.uint32(MSG.heartbeatResp).fork();
      text(w, HEARTBEAT_RESP.context, m.context);
      break;
    case 'snap':
      w.uint32(MSG.snap).fork();
      writeMeta(w, m.meta);
      uint(w, SNAP.offset, m.offset);
      uint(w, SNAP.totalBytes, m.totalBytes);
      bytes(w, SNAP.chunk, m.chunk);
      break;
    case 'snapResp':
      w.uint32(MSG.snapResp).fork();
      uint(w, SNAP_RESP.snapIndex, m.snapIndex);
      uint(w, SNAP_RESP.nextOffset, m.nextOffset);
      bool(w, SNAP_RESP.reject, m.reject);
      break;
    case 'timeoutNow':
      w.uint32(MSG.timeoutNow).fork();
      break;
    case 'readIndex':
      w.uint32(MSG.readIndex).fork();
      text(w, READ_INDEX.context, m.context);
      break;
    case 'readIndexResp':
      w.uint32(MSG.readIndexResp).fork();
      uint(w, READ_INDEX_RESP.index, m.index);
      text(w, READ_INDEX_RESP.context, m.context);
      bool(w, READ_INDEX_RESP.reject, m.reject);
      break;
    default:
      unreachable(m, 'message type');
  }
  w.ldelim();
}

function writeEntry(w: Writer, e: Entry): void {
  w.uint32(APP.entries).fork();
  uint(w, ENTRY.term, e.term);
  uint(w, ENTRY.index, e.index);
  uint(w, ENTRY.type, e.type === 'normal' ? ENTRY_TYPE_NORMAL : ENTRY_TYPE_CONF);
  bytes(w, ENTRY.data, e.data);
  w.ldelim();
}

function writeMeta(w: Writer, meta: SnapshotMeta): void {
  w.uint32(SNAP.meta).fork();
  uint(w, META.index, meta.index);
  uint(w, META.term, meta.term);
  writeConfState(w, meta.confState);
  w.ldelim();
}

function writeConfState(w: Writer, cs: ConfState): void {
  w.uint32(META.confState).fork();
  uints(w, CONF_STATE.voters, cs.voters);
  uints(w, CONF_STATE.learners, cs.learners);
  uints(w, CONF_STATE.votersOutgoing, cs.votersOutgoing);
  uints(w, CONF_STATE.learnersNext, cs.learnersNext);
  bool(w, CONF_STATE.autoLeave, cs.autoLeave);
  w.ldelim();
}
