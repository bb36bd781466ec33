// Interaction scripts in the style of etcd-io/raft's testdata (our own commands and wording).
// A script is a sequence of blocks:
//
//   command arg key=value key=(1,2)
//   ----
//   expected output, every line (or "ok" when there is none)
//   <blank line>
//
// Lines starting with '#' before a command are comments. Run with KEEL_REWRITE=1 to rewrite outputs.
import { nodeId, type ConfChange, type ConfChangeSingle, type Index, type MessageType, type NodeId } from '../../raft/index.ts';
import { describeConfState, describeEntries } from '../../raft/describe.ts';
import { RaftCluster, type DeliverFilter, type NodeOptions } from '../support/raft-cluster.ts';

export interface Block {
  /** Comment lines (with '#') and blank lines preceding the command. */
  readonly preamble: string[];
  readonly command: string;
  readonly expected: string;
}

export function parseScript(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '' || line.startsWith('#')) {
      preamble.push(line);
      i++;
      continue;
    }
    const command = line;
    i++;
    if (lines[i] !== '----') throw new Error(`line ${i + 1}: expected ---- after command "${command}"`);
    i++;
    const out: string[] = [];
    while (i < lines.length && (lines[i] as string) !== '') {
      out.push(lines[i] as string);
      i++;
    }
    i++; // the blank line that ends the block
    blocks.push({ preamble, command, expected: out.join('\n') });
    preamble = [];
  }
  if (preamble.some((l) => l.trim() !== '')) blocks.push({ preamble, command: '', expected: '' });
  return blocks;
}

export function renderScript(blocks: readonly Block[], outputs: readonly string[]): string {
  const parts: string[] = [];
  blocks.forEach((b, k) => {
    parts.push(...b.preamble);
    if (b.command === '') return;
    parts.push(b.command, '----', outputs[k] as string, '');
  });
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.join('\n') + '\n';
}

interface Args {
  positional: string[];
  kv: Map<string, string>;
}

function parseArgs(tokens: readonly string[]): Args {
  const positional: string[] = [];
  const kv = new Map<string, string>();
  for (const t of tokens) {
    const eq = t.indexOf('=');
    if (eq > 0) kv.set(t.slice(0, eq), t.slice(eq + 1));
    else positional.push(t);
  }
  return { positional, kv };
}

function ids(list: string | undefined): NodeId[] {
  if (list === undefined) return [];
  return list.replace(/[()]/g, '').split(/[ ,]+/).filter((s) => s !== '').map((s) => nodeId(Number(s)));
}

function num(s: string | undefined, what: string): number {
  const n = Number(s);
  if (s === undefined || !Number.isFinite(n)) throw new Error(`${what}: expected a number, got ${String(s)}`);
  return n;
}

function bool(s: string | undefined): boolean | undefined {
  return s === undefined ? undefined : s === 'true';
}

function filter(a: Args): DeliverFilter {
  const f: DeliverFilter = {
    to: a.positional.map((p) => nodeId(Number(p))),
    from: ids(a.kv.get('from')),
    types: (a.kv.get('type') ?? '').replace(/[()]/g, '').split(',').filter((s) => s !== '') as MessageType[],
  };
  const limit = a.kv.get('limit');
  const withLimit = limit === undefined ? f : { ...f, limit: num(limit, 'limit') };
  return a.kv.get('drop') === 'true' ? { ...withLimit, drop: true } : withLimit;
}

function confChange(a: Args): ConfChange {
  const changes: ConfChangeSingle[] = a.positional.slice(1).map((tok) => {
    const kind = tok[0];
    const id = nodeId(Number(tok.slice(1)));
    if (kind === 'v') return { type: 'addNode', nodeId: id };
    if (kind === 'l') return { type: 'addLearner', nodeId: id };
    if (kind === 'r') return { type: 'removeNode', nodeId: id };
    throw new Error(`bad conf change token ${tok}`);
  });
  const transition = (a.kv.get('transition') ?? 'auto') as ConfChange['transition'];
  return { transition, changes, context: '' };
}

/** Runs one command against the cluster and returns its output. */
export function runCommand(c: RaftCluster, command: string): string {
  const [name, ...rest] = command.trim().split(/\s+(?![^(]*\))/);
  const a = parseArgs(rest);
  const first = (): NodeId => nodeId(num(a.positional[0], name ?? ''));
  switch (name) {
    case 'add-nodes': {
      const count = num(a.positional[0], 'add-nodes');
      const start = Math.max(0, ...c.ids()) + 1;
      const newIds = Array.from({ length: count }, (_, k) => start + k);
      const opts: NodeOptions = {};
      const setNum = (key: string, field: keyof NodeOptions): void => {
        const v = a.kv.get(key);
        if (v !== undefined) (opts as Record<string, unknown>)[field] = num(v, key);
      };
      const pv = bool(a.kv.get('prevote'));
      if (pv !== undefined) opts.preVote = pv;
      const cq = bool(a.kv.get('checkquorum'));
      if (cq !== undefined) opts.checkQuorum = cq;
      const as = bool(a.kv.get('async'));
      if (as !== undefined) opts.async = as;
      const fixed = bool(a.kv.get('fixed-snapshots'));
      if (fixed !== undefined) opts.fixedSnapshots = fixed;
      setNum('election', 'electionTicks');
      setNum('heartbeat', 'heartbeatTicks');
      setNum('max-entries', 'entriesPerMessageMax');
      setNum('max-bytes', 'messageBytesMax');
      setNum('max-inflight', 'inflightMessagesMax');
      setNum('max-uncommitted', 'uncommittedBytesMax');
      setNum('chunk-bytes', 'snapshotChunkBytesMax');
      c.addNodes(newIds, { voters: ids(a.kv.get('voters')), learners: ids(a.kv.get('learners')) }, num(a.kv.get('index') ?? '0', 'index'), opts);
      return newIds.map((id) => `added node ${id}`).join('\n');
    }
    case 'campaign':
      c.node(first()).raw.campaign();
      break;
    case 'propose':
      return c.propose(first(), a.positional[1] ?? '');
    case 'propose-batch': {
      const r = c.node(first()).raw.proposeBatch(a.positional.slice(1).map((s) => new TextEncoder().encode(s)));
      return r.ok ? `ok index=${r.index}` : `refused ${r.code} leader=${r.leader}`;
    }
    case 'propose-conf-change': {
      const r = c.node(first()).raw.proposeConfChange(confChange(a));
      return r.ok ? `ok index=${r.index}` : `refused ${r.code}${r.detail ? `: ${r.detail}` : ''}`;
    }
    case 'tick': {
      const n = c.node(first());
      const count = num(a.positional[1] ?? '1', 'tick');
      for (let k = 0; k < count; k++) n.raw.tick();
      break;
    }
    case 'tick-heartbeat': {
      const n = c.node(first());
      for (let k = 0; k < (n.options.heartbeatTicks ?? 1); k++) n.raw.tick();
      break;
    }
    case 'tick-election': {
      const n = c.node(first());
      for (let k = 0; k < (n.options.electionTicks ?? 10); k++) n.raw.tick();
      break;
    }
    case 'process-ready':
      for (const p of a.positional) c.processReady(nodeId(Number(p)));
      break;
    case 'persist': {
      const done = c.persist(first(), a.positional[1] === undefined ? Infinity : num(a.positional[1], 'persist'));
      if (done === 0) return 'nothing to persist';
      break;
    }
    case 'deliver-msgs':
      if (c.deliver(filter(a)) === 0) return 'no messages';
      break;
    case 'duplicate-msgs':
      return `duplicated ${c.duplicate(filter(a))}`;
    case 'reorder-msgs':
      c.reorder(filter(a));
      break;
    case 'stabilize':
      c.stabilize(a.positional.map((p) => nodeId(Number(p))));
      break;
    case 'partition':
      c.partition(a.positional.map((g) => ids(g)));
      break;
    case 'cut':
      c.cutLink(num(a.positional[0], 'cut'), num(a.positional[1], 'cut'));
      break;
    case 'heal':
      c.heal();
      break;
    case 'crash':
      c.crash(first());
      break;
    case 'restart':
      c.restart(first());
      break;
    case 'compact':
      c.compact(first(), num(a.positional[1], 'compact') as Index);
      break;
    case 'transfer-leader': {
      const r = c.node(first()).raw.transferLeader(nodeId(num(a.positional[1], 'transfer-leader')));
      return r.ok ? 'ok' : `refused ${r.code} leader=${r.leader}`;
    }
    case 'read-index': {
      const r = c.node(first()).raw.readIndex(a.positional[1] ?? '');
      return r.ok ? 'ok' : `refused ${r.code}`;
    }
    case 'status': {
      const s = c.node(first()).raw.status();
      const lines = [`${s.id}: ${s.role} term=${s.term} vote=${s.vote} lead=${s.lead} commit=${s.commit} applied=${s.applied} log=[${s.firstIndex}..${s.lastIndex}] ${describeConfState(s.config)}`];
      for (const [id, p] of s.progress) lines.push(`  ${id}: ${p.state} match=${p.match} next=${p.next}${p.isLearner ? ' learner' : ''}${p.inflight > 0 ? ` inflight=${p.inflight}` : ''}${p.recentActive ? '' : ' inactive'}`);
      return lines.join('\n');
    }
    case 'raft-log': {
      const n = c.node(first());
      const snap = n.storage.snapshot();
      const head = `stable log (snapshot ${snap.meta.term}/${snap.meta.index}): ${describeEntries(n.storage.allEntries())}`;
      const unstable = n.raw.raft.log.unstable.entries;
      return unstable.length > 0 ? `${head}\nunstable: ${describeEntries(unstable)}` : head;
    }
    case 'raft-state':
      return c.ids().map((id) => {
        const n = c.node(id);
        if (n.crashed) return `${id}: crashed`;
        const s = n.raw.status();
        return `${id}: ${s.role} term=${s.term} lead=${s.lead} commit=${s.commit}`;
      }).join('\n');
    case 'applied': {
      const n = c.node(first());
      return `${n.id} applied index=${n.appliedIndex} data=[${n.applied.join(' ')}]`;
    }
    case 'log-level':
      c.logLevel = (a.positional[0] ?? 'info') as RaftCluster['logLevel'];
      break;
    default:
      throw new Error(`unknown command ${String(name)}`);
  }
  return c.takeOutput();
}

export function runScript(text: string): { blocks: Block[]; outputs: string[] } {
  const blocks = parseScript(text);
  const c = new RaftCluster();
  const outputs = blocks.map((b) => {
    if (b.command === '') return '';
    c.out.length = 0;
    let out: string;
    try {
      out = runCommand(c, b.command);
      const extra = c.takeOutput();
      if (extra !== '') out = out === '' ? extra : `${out}\n${extra}`;
    } catch (e) {
      out = `error: ${(e as Error).message}`;
    }
    return out === '' ? 'ok' : out;
  });
  return { blocks, outputs };
}
