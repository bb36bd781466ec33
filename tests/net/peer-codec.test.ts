// The peer frame codec: every valid frame (every Raft message type) survives encode → decode unchanged,
// and no input at all — random bytes, mutated encodings, out-of-range fields — makes decodeFrame throw:
// it returns a frame that passes an independent validity check, or an error value.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Frame, GroupMessage, NodeRpc } from '../../broker/ports.ts';
import { decodeFrame, encodeFrame, PEER_CODEC_LIMITS } from '../../net/peer-codec.ts';
import { encodeWireFrame } from '../../net/peer-schema.ts';
import { MESSAGE_TYPES, type ConfState, type Entry, type Index, type Message, type NodeId, type SnapshotMeta, type Term } from '../../raft/types.ts';

// ---- arbitraries ----

const nodeIdArb: fc.Arbitrary<NodeId> = fc.oneof(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })).map((n) => n as NodeId);
const uintArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1000 }), fc.maxSafeNat());
const termArb = uintArb.map((n) => n as Term);
const indexArb = uintArb.map((n) => n as Index);
const bytesArb = fc.uint8Array({ maxLength: 48 });
const textArb = fc.string({ unit: 'binary', maxLength: 12 });

const entryArb: fc.Arbitrary<Entry> = fc.record({ term: termArb, index: indexArb, type: fc.constantFrom('normal' as const, 'conf' as const), data: bytesArb });
const membersArb = fc.array(nodeIdArb, { maxLength: 5 });
const confStateArb: fc.Arbitrary<ConfState> = fc.record({ voters: membersArb, learners: membersArb, votersOutgoing: membersArb, learnersNext: membersArb, autoLeave: fc.boolean() });
const metaArb: fc.Arbitrary<SnapshotMeta> = fc.record({ index: indexArb, term: termArb, confState: confStateArb });

const envelope = { from: nodeIdArb, to: nodeIdArb, term: termArb };
/** One arbitrary per message type: a change to raft/types.ts Message that this file misses fails below. */
const messageArbs: Record<Message['type'], fc.Arbitrary<Message>> = {
  app: fc.record({ ...envelope, type: fc.constant('app' as const), index: indexArb, logTerm: termArb, entries: fc.array(entryArb, { maxLength: 4 }), commit: indexArb }),
  appResp: fc.record({ ...envelope, type: fc.constant('appResp' as const), index: indexArb, reject: fc.boolean(), rejectHint: indexArb, logTerm: termArb }),
  vote: fc.record({ ...envelope, type: fc.constant('vote' as const), index: indexArb, logTerm: termArb, transfer: fc.boolean() }),
  preVote: fc.record({ ...envelope, type: fc.constant('preVote' as const), index: indexArb, logTerm: termArb, transfer: fc.boolean() }),
  voteResp: fc.record({ ...envelope, type: fc.constant('voteResp' as const), reject: fc.boolean() }),
  preVoteResp: fc.record({ ...envelope, type: fc.constant('preVoteResp' as const), reject: fc.boolean() }),
  heartbeat: fc.record({ ...envelope, type: fc.constant('heartbeat' as const), commit: indexArb, context: textArb }),
  heartbeatResp: fc.record({ ...envelope, type: fc.constant('heartbeatResp' as const), context: textArb }),
  snap: fc.record({ ...envelope, type: fc.constant('snap' as const), meta: metaArb, offset: fc.nat(1 << 20), chunk: bytesArb, extra: fc.nat(1 << 20) })
    .map(({ extra, ...m }) => ({ ...m, totalBytes: m.offset + m.chunk.byteLength + extra })),
  snapResp: fc.record({ ...envelope, type: fc.constant('snapResp' as const), snapIndex: indexArb, nextOffset: uintArb, reject: fc.boolean() }),
  timeoutNow: fc.record({ ...envelope, type: fc.constant('timeoutNow' as const) }),
  readIndex: fc.record({ ...envelope, type: fc.constant('readIndex' as const), context: textArb }),
  readIndexResp: fc.record({ ...envelope, type: fc.constant('readIndexResp' as const), index: indexArb, context: textArb, reject: fc.boolean() }),
};
const messageArb = fc.oneof(...Object.values(messageArbs));

/** RPC bodies are JSON; normalised through JSON so -0 and the like are what the wire can carry. */
const bodyArb = fc.option(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown), { nil: undefined });
const rpcArb: fc.Arbitrary<NodeRpc> = fc.record({ kind: fc.constantFrom('request' as const, 'response' as const, 'unanswered' as const), id: uintArb, method: textArb, body: bodyArb, toIncarnation: uintArb });
const groupMessageArb: fc.Arbitrary<GroupMessage> = fc.record({ group: uintArb, msg: messageArb });
const frameArb: fc.Arbitrary<Frame> = fc.record({ from: nodeIdArb, to: nodeIdArb, fromIncarnation: uintArb, messages: fc.array(groupMessageArb, { maxLength: 6 }), rpcs: fc.array(rpcArb, { maxLength: 3 }) });

// ---- an independent statement of what a decoded frame must satisfy ----

const isId = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) > 0;
const isUint = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0;

function frameProblems(f: Frame): string[] {
  const out: string[] = [];
  const check = (ok: boolean, what: string): void => void (ok || out.push(what));
  check(isId(f.from) && isId(f.to), 'frame ids');
  check(f.messages.length <= PEER_CODEC_LIMITS.messagesPerFrameMax && f.rpcs.length <= PEER_CODEC_LIMITS.rpcsPerFrameMax, 'counts');
  for (const { group, msg: m } of f.messages) {
    check(isUint(group), 'group');
    check(MESSAGE_TYPES.includes(m.type), `type ${String(m.type)}`);
    check(isId(m.from) && isId(m.to) && isUint(m.term), 'envelope');
    for (const k of ['index', 'logTerm', 'commit', 'rejectHint', 'snapIndex', 'nextOffset', 'offset', 'totalBytes'] as const) {
      if (k in m) check(isUint((m as unknown as Record<string, unknown>)[k]), k);
    }
    if (m.type === 'app') for (const e of m.entries) check(isUint(e.term) && isUint(e.index) && (e.type === 'normal' || e.type === 'conf') && e.data instanceof Uint8Array, 'entry');
    if (m.type === 'snap') {
      const cs = m.meta.confState;
      check(isUint(m.meta.index) && isUint(m.meta.term), 'snapshot meta');
      check([cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext].every((l) => l.every(isId)), 'members');
      check(m.offset + m.chunk.byteLength <= m.totalBytes, 'chunk bounds');
    }
  }
  for (const r of f.rpcs) check((r.kind === 'request' || r.kind === 'response' || r.kind === 'unanswered') && isUint(r.toIncarnation) && isUint(r.id) && typeof r.method === 'string', 'rpc');
  check(isUint(f.fromIncarnation), 'from incarnation');
  return out;
}

/** decodeFrame never throws; what it accepts is valid and re-encodes to itself. */
function decodesSafely(bytes: Uint8Array): void {
  let r: ReturnType<typeof decodeFrame> | undefined;
  expect(() => (r = decodeFrame(bytes))).not.toThrow();
  if (r === undefined) throw new Error('unreachable');
  if (!r.ok) {
    expect(typeof r.error).toBe('string');
    return;
  }
  expect(frameProblems(r.frame)).toEqual([]);
  expect(decodeFrame(encodeFrame(r.frame))).toEqual({ ok: true, frame: r.frame });
}

// ---- properties ----

describe('peer codec', () => {
  it('round-trips arbitrary valid frames of every message type', () => {
    fc.assert(fc.property(frameArb, (frame) => {
      expect(frameProblems(frame)).toEqual([]);
      expect(decodeFrame(encodeFrame(frame))).toEqual({ ok: true, frame });
    }), { numRuns: 500 });
  });

  it('round-trips each message type on its own', () => {
    for (const [type, arb] of Object.entries(messageArbs)) {
      fc.assert(fc.property(arb, nodeIdArb, (msg, to) => {
        expect(msg.type).toBe(type);
        const frame: Frame = { from: msg.from, to, fromIncarnation: 1, messages: [{ group: 3, msg }], rpcs: [] };
        expect(decodeFrame(encodeFrame(frame))).toEqual({ ok: true, frame });
      }), { numRuns: 50 });
    }
    expect(Object.keys(messageArbs).sort()).toEqual([...MESSAGE_TYPES].sort());
  });

  it('never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), decodesSafely), { numRuns: 2000 });
  });

  it('never throws on mutated valid encodings', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12) }),
    );
    fc.assert(fc.property(frameArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (frame, mutations) => {
      let bytes = encodeFrame(frame).slice();
      for (const m of mutations) {
        if (bytes.length === 0) break;
        const at = m.at % bytes.length;
        if (m.kind === 'flip') bytes[at] = (bytes[at] as number) ^ (1 << m.bit);
        else if (m.kind === 'set') bytes[at] = m.value;
        else if (m.kind === 'truncate') bytes = bytes.slice(0, at);
        else bytes = new Uint8Array([...bytes.subarray(0, at), ...m.bytes, ...bytes.subarray(at)]);
      }
      decodesSafely(bytes);
    }), { numRuns: 2000 });
  });
});

describe('peer codec validation', () => {
  const base = (): Record<string, unknown> => ({ from: 1, to: 2, messages: [{ group: 0, msg: { from: 1, to: 2, term: 1, heartbeat: { commit: 0, context: '' } } }], rpcs: [] });
  const rejects = (wire: object, pattern: RegExp): void => {
    const r = decodeFrame(encodeWireFrame(wire));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(pattern);
  };

  it('accepts the baseline', () => {
    expect(decodeFrame(encodeWireFrame(base())).ok).toBe(true);
  });

  it('rejects ids that are not positive', () => {
    rejects({ ...base(), from: 0 }, /frame\.from must be positive/);
    rejects({ ...base(), messages: [{ group: 0, msg: { from: 1, to: 0, term: 1, timeoutNow: {} } }] }, /msg\.to must be positive/);
    rejects({ ...base(), messages: [{ group: 0, msg: { from: 1, to: 2, term: 1, snap: { meta: { index: 1, term: 1, confState: { voters: [1, 0] } }, offset: 0, totalBytes: 0 } } }] }, /voters must be positive/);
  });

  it('rejects numbers beyond 2^53', () => {
    rejects({ ...base(), messages: [{ group: 0, msg: { from: 1, to: 2, term: 2 ** 53, timeoutNow: {} } }] }, /msg\.term is not a non-negative safe integer/);
    rejects({ ...base(), to: 2 ** 60 }, /frame\.to is not/);
  });

  it('rejects unknown message, entry and rpc kinds', () => {
    rejects({ ...base(), messages: [{ group: 0, msg: { from: 1, to: 2, term: 1 } }] }, /unknown message type/);
    rejects({ ...base(), messages: [{ group: 0 }] }, /group message body is missing/);
    rejects({ ...base(), messages: [{ group: 0, msg: { from: 1, to: 2, term: 1, app: { entries: [{ term: 1, index: 1, type: 9 }] } } }] }, /unknown entry type 9/);
    rejects({ ...base(), messages: [{ group: 0, msg: { from: 1, to: 2, term: 1, app: { entries: [{ term: 1, index: 1 }] } } }] }, /unknown entry type 0/);
    rejects({ ...base(), rpcs: [{ kind: 0, id: 1, method: 'm' }] }, /unknown rpc kind 0/);
  });

  it('rejects rpc bodies that are not UTF-8 JSON, snapshot chunks past their total, and oversize input', () => {
    rejects({ ...base(), rpcs: [{ kind: 1, id: 1, method: 'm', body: new TextEncoder().encode('{nope') }] }, /not UTF-8 JSON/);
    rejects({ ...base(), rpcs: [{ kind: 1, id: 1, method: 'm', body: new Uint8Array([0x22, 0xff, 0x22]) }] }, /not UTF-8 JSON/);
    // Numbers our encoder never writes (a flipped bit can make them): they would not re-encode to themselves.
    rejects({ ...base(), rpcs: [{ kind: 1, id: 1, method: 'm', body: new TextEncoder().encode('[1e999]') }] }, /finite numbers/);
    rejects({ ...base(), rpcs: [{ kind: 1, id: 1, method: 'm', body: new TextEncoder().encode('{"a":-0}') }] }, /finite numbers/);
    rejects({ ...base(), messages: [{ group: 0, msg: { from: 1, to: 2, term: 1, snap: { meta: { confState: {} }, offset: 5, totalBytes: 6, chunk: new Uint8Array(2) } } }] }, /past totalBytes/);
    rejects({ ...base(), messages: [{ group: 0, msg: { from: 1, to: 2, term: 1, heartbeat: { context: 'x'.repeat(PEER_CODEC_LIMITS.contextCharsMax + 1) } } }] }, /context of/);
    const big = decodeFrame(new Uint8Array(PEER_CODEC_LIMITS.frameBytesMax + 1));
    expect(big.ok).toBe(false);
  });

  it('hands out plain Uint8Arrays, not Buffer views (whose slice() would not copy)', () => {
    const frame: Frame = { from: 1 as NodeId, to: 2 as NodeId, fromIncarnation: 0, messages: [{ group: 1, msg: { type: 'app', from: 1 as NodeId, to: 2 as NodeId, term: 1 as Term, index: 0 as Index, logTerm: 0 as Term, entries: [{ term: 1 as Term, index: 1 as Index, type: 'normal', data: new Uint8Array([1, 2, 3]) }], commit: 0 as Index } }], rpcs: [] };
    const r = decodeFrame(encodeFrame(frame));
    if (!r.ok) throw new Error(r.error);
    const m = r.frame.messages[0]!.msg;
    if (m.type !== 'app') throw new Error('expected app');
    expect(Object.getPrototypeOf(m.entries[0]!.data)).toBe(Uint8Array.prototype);
  });
});
