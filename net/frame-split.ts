// Splits a frame that is too big for one gRPC message into consecutive frames. A driver turn can queue a
// lot for one peer (a follower catching up gets up to inflightMessagesMax appends of messageBytesMax
// each, across every group), while one gRPC message is capped (PEER_CODEC_LIMITS.frameBytesMax) and a
// huge one delays every heartbeat behind it. Parts keep the messages' order and travel on the same
// stream, so the receiver sees what one frame would have said, in a few deliveries.
import type { Frame, GroupMessage } from '../broker/ports.ts';
import type { Message } from '../raft/types.ts';

/** Per-message framing estimate: envelope, tags and lengths. Generous on purpose. */
const MESSAGE_OVERHEAD_BYTES = 64;
const ENTRY_OVERHEAD_BYTES = 32;
const MEMBER_BYTES = 10;

/** Upper-bound estimate of a message's encoded size (strings counted at 3 UTF-8 bytes per char). */
export function messageBytesEstimate(m: Message): number {
  switch (m.type) {
    case 'app': {
      let n = MESSAGE_OVERHEAD_BYTES;
      for (const e of m.entries) n += e.data.byteLength + ENTRY_OVERHEAD_BYTES;
      return n;
    }
    case 'snap': {
      const cs = m.meta.confState;
      const members = cs.voters.length + cs.learners.length + cs.votersOutgoing.length + cs.learnersNext.length;
      return MESSAGE_OVERHEAD_BYTES * 2 + m.chunk.byteLength + members * MEMBER_BYTES;
    }
    case 'heartbeat':
    case 'heartbeatResp':
    case 'readIndex':
    case 'readIndexResp':
      return MESSAGE_OVERHEAD_BYTES + m.context.length * 3;
    default:
      return MESSAGE_OVERHEAD_BYTES;
  }
}

/**
 * The frame as parts of at most about `partBytesTarget` each (one message bigger than that travels
 * alone). RPCs ride in the first part. Returns [frame] itself when it fits.
 */
export function splitFrame(frame: Frame, partBytesTarget: number): Frame[] {
  let total = 0;
  for (const gm of frame.messages) total += messageBytesEstimate(gm.msg);
  if (total <= partBytesTarget) return [frame];
  const parts: Frame[] = [];
  let current: GroupMessage[] = [];
  let currentBytes = 0;
  const close = (): void => {
    parts.push({ from: frame.from, to: frame.to, fromIncarnation: frame.fromIncarnation, messages: current, rpcs: parts.length === 0 ? frame.rpcs : [] });
    current = [];
    currentBytes = 0;
  };
  for (const gm of frame.messages) {
    const bytes = messageBytesEstimate(gm.msg);
    if (current.length > 0 && currentBytes + bytes > partBytesTarget) close();
    current.push(gm);
    currentBytes += bytes;
  }
  if (current.length > 0) close();
  return parts;
}
