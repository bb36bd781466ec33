// One-line, human-readable renderings of Raft data, shared by the interaction-script golden files and
// the simulator's --trace timeline. Stable output: a change here rewrites golden files.
import type { ConfState, Entry, HardState, Message } from './types.ts';
import { decodeConfChange } from './confchange-codec.ts';

const decoder = new TextDecoder('utf-8', { fatal: false });
const PAYLOAD_CHARS_MAX = 24;

function payload(data: Uint8Array): string {
  if (data.byteLength === 0) return '';
  let printable = true;
  for (const b of data.subarray(0, PAYLOAD_CHARS_MAX)) if (b < 0x20 || b > 0x7e) printable = false;
  if (!printable) return ` <${data.byteLength} bytes>`;
  const s = decoder.decode(data.subarray(0, PAYLOAD_CHARS_MAX));
  return ` "${s}${data.byteLength > PAYLOAD_CHARS_MAX ? '…' : ''}"`;
}

export function describeEntry(e: Entry): string {
  if (e.type === 'conf') {
    const cc = decodeConfChange(e.data);
    if (!cc.ok) return `${e.term}/${e.index} conf <invalid>`;
    const changes = cc.value.changes.map((c) => `${c.type === 'addNode' ? 'v' : c.type === 'addLearner' ? 'l' : 'r'}${c.nodeId}`);
    return `${e.term}/${e.index} conf ${cc.value.transition}[${changes.join(' ')}]`;
  }
  return `${e.term}/${e.index}${payload(e.data)}`;
}

export function describeEntries(ents: readonly Entry[]): string {
  return `[${ents.map(describeEntry).join(', ')}]`;
}

export function describeHardState(hs: HardState): string {
  return `term=${hs.term} vote=${hs.vote} commit=${hs.commit}`;
}

export function describeConfState(cs: ConfState): string {
  const parts = [`voters=(${cs.voters.join(' ')})`];
  if (cs.votersOutgoing.length > 0) parts[0] = `voters=(${cs.voters.join(' ')})&&(${cs.votersOutgoing.join(' ')})`;
  if (cs.learners.length > 0) parts.push(`learners=(${cs.learners.join(' ')})`);
  if (cs.learnersNext.length > 0) parts.push(`learners_next=(${cs.learnersNext.join(' ')})`);
  if (cs.autoLeave) parts.push('autoleave');
  return parts.join(' ');
}

export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'app':
      return `${head} prev=${m.logTerm}/${m.index} commit=${m.commit} entries=${describeEntries(m.entries)}`;
    case 'appResp':
      return m.reject ? `${head} reject index=${m.index} hint=${m.logTerm}/${m.rejectHint}` : `${head} index=${m.index}`;
    case 'vote':
    case 'preVote':
      return `${head} last=${m.logTerm}/${m.index}${m.transfer ? ' transfer' : ''}`;
    case 'voteResp':
    case 'preVoteResp':
      return `${head}${m.reject ? ' reject' : ' granted'}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}${m.context === '' ? '' : ` ctx=${m.context}`}`;
    case 'heartbeatResp':
      return `${head}${m.context === '' ? '' : ` ctx=${m.context}`}`;
    case 'snap':
      return `${head} snap=${m.meta.term}/${m.meta.index} bytes=${m.offset}..${m.offset + m.chunk.byteLength}/${m.totalBytes} ${describeConfState(m.meta.confState)}`;
    case 'snapResp':
      return `${head} snap=${m.snapIndex} next=${m.nextOffset}${m.reject ? ' reject' : ''}`;
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head} ctx=${m.context}`;
    case 'readIndexResp':
      return `${head} ctx=${m.context} index=${m.index}${m.reject ? ' reject' : ''}`;
  }
}
