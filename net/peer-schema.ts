// The peer protocol schema (net/proto/keel/v1/peer.proto), loaded at runtime with protobufjs: the
// .proto file is the single source of truth and there is no code generation step to forget.
// This file only loads and describes the wire shapes; net/peer-codec.ts converts and validates.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export const PEER_PROTO_PATH = fileURLToPath(new URL('./proto/keel/v1/peer.proto', import.meta.url));

const root = protobuf.loadSync(PEER_PROTO_PATH);
root.resolveAll();

export const FrameType = root.lookupType('keel.v1.Frame');
export const PeerService = root.lookupService('keel.v1.Peer');

/** A field's number in peer.proto (`type` without the package: 'Frame', 'RaftMessage', ...). */
export function fieldNumber(type: string, field: string): number {
  const f = root.lookupType(`keel.v1.${type}`).fields[field];
  if (f === undefined) throw new Error(`peer.proto lacks ${type}.${field}`);
  return f.id;
}

/** Enum numbers, read from the schema so the two cannot drift apart. */
function enumValue(name: string, value: string): number {
  const n = root.lookupEnum(name).values[value];
  if (n === undefined) throw new Error(`peer.proto lacks ${name}.${value}`);
  return n;
}
export const ENTRY_TYPE_NORMAL = enumValue('keel.v1.EntryType', 'ENTRY_TYPE_NORMAL');
export const ENTRY_TYPE_CONF = enumValue('keel.v1.EntryType', 'ENTRY_TYPE_CONF');
export const RPC_KIND_REQUEST = enumValue('keel.v1.RpcKind', 'RPC_KIND_REQUEST');
export const RPC_KIND_RESPONSE = enumValue('keel.v1.RpcKind', 'RPC_KIND_RESPONSE');
export const RPC_KIND_UNANSWERED = enumValue('keel.v1.RpcKind', 'RPC_KIND_UNANSWERED');

/**
 * A wire uint64. The reader below yields numbers; a field absent from the wire reads protobufjs's
 * prototype default, which is a Long when the `long` package is installed (it is, transitively).
 */
export type WireUint = number | { readonly low: number; readonly high: number };

/** The wire shapes as protobufjs decodes them (camelCase fields; absent fields read their default). */
export interface WireConfState {
  voters: WireUint[];
  learners: WireUint[];
  votersOutgoing: WireUint[];
  learnersNext: WireUint[];
  autoLeave: boolean;
}
export interface WireSnapshotMeta {
  index: WireUint;
  term: WireUint;
  confState: WireConfState | null;
}
export interface WireEntry {
  term: WireUint;
  index: WireUint;
  type: number;
  data: Uint8Array;
}
export interface WireRaftMessage {
  from: WireUint;
  to: WireUint;
  term: WireUint;
  /** Name of the oneof field that is set (protobufjs's virtual oneof property), if any. */
  body?: string;
  app?: { index: WireUint; logTerm: WireUint; entries: WireEntry[]; commit: WireUint } | null;
  appResp?: { index: WireUint; reject: boolean; rejectHint: WireUint; logTerm: WireUint } | null;
  vote?: WireVote | null;
  preVote?: WireVote | null;
  voteResp?: { reject: boolean } | null;
  preVoteResp?: { reject: boolean } | null;
  heartbeat?: { commit: WireUint; context: string } | null;
  heartbeatResp?: { context: string } | null;
  snap?: { meta: WireSnapshotMeta | null; offset: WireUint; totalBytes: WireUint; chunk: Uint8Array } | null;
  snapResp?: { snapIndex: WireUint; nextOffset: WireUint; reject: boolean } | null;
  timeoutNow?: object | null;
  readIndex?: { context: string } | null;
  readIndexResp?: { index: WireUint; context: string; reject: boolean } | null;
}
export interface WireVote {
  index: WireUint;
  logTerm: WireUint;
  transfer: boolean;
}
export interface WireGroupMessage {
  group: WireUint;
  msg: WireRaftMessage | null;
}
export interface WireNodeRpc {
  kind: number;
  id: WireUint;
  method: string;
  body: Uint8Array;
  toIncarnation: WireUint;
}
export interface WireFrame {
  from: WireUint;
  to: WireUint;
  messages: WireGroupMessage[];
  rpcs: WireNodeRpc[];
  fromIncarnation: WireUint;
}

const BufferReader = protobuf.BufferReader;

/**
 * A reader whose uint64 fields decode straight to JavaScript numbers instead of Long objects: one
 * allocation less per field on the hottest path of the node. Exact below 2^53; anything at or above
 * 2^53 comes out as an unsafe integer, which validation rejects. Malformed varints throw, like every
 * protobufjs read error; decodeFrame catches them.
 */
export class NumberReader extends BufferReader {}
// Assigned rather than declared with `override`: protobufjs's typings say uint64 returns a Long.
(NumberReader.prototype as unknown as { uint64: () => number }).uint64 = function readUint64(this: protobuf.Reader): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (this.pos >= this.len) throw new RangeError('varint runs past the end of the buffer');
    const byte = this.buf[this.pos++] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 128;
  }
  throw new RangeError('varint longer than 10 bytes');
};

/** Decodes a Frame; throws on malformed input (the caller catches). */
export function decodeWireFrame(bytes: Buffer): WireFrame {
  const reader = new NumberReader(bytes);
  return FrameType.decode(reader) as unknown as WireFrame;
}

/**
 * Encodes a plain wire-shaped object with the generated encoder. Frames go out through
 * net/peer-frame-writer.ts; tests use this to build frames our writer never would (invalid ones).
 */
export function encodeWireFrame(frame: object): Uint8Array {
  return FrameType.encode(frame).finish();
}
