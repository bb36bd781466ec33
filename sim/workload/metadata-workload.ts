// Admin clients: each creates, grows, alters (retention.ms), deletes, describes and lists topics from a
// small pool of names, with timeouts and retries. A retry reuses the request id, so it can never apply
// twice; the whole logical request (first call to final answer) is one operation of the history the
// linearizability checker reads.
import type { AdminResult } from '../../controller/errors.ts';
import type { TopicDescription } from '../../controller/metadata.ts';
import { TOPIC_CONFIG_DEFAULTS } from '../../controller/topic-config.ts';
import type { KeelNode } from '../../broker/keel-node.ts';
import { NONE, type NodeId } from '../../raft/types.ts';
import { topicsModel, type TopicInput, type TopicOutput } from '../linearizability/models.ts';
import type { Operation } from '../linearizability/types.ts';
import { checkLinearizable } from '../linearizability/check.ts';
import type { Violation } from '../checkers/raft-checker.ts';
import { KeelApp } from '../apps/keel-app.ts';
import { clientCall } from './raft-workload.ts';
import type { World } from '../world.ts';

export interface MetadataClientOptions {
  readonly clients: number;
  readonly topicNames: readonly string[];
  /** A single attempt gives up after this long (the outcome is then unknown). */
  readonly attemptTimeoutMs: number;
  /** Attempts per logical request (retries reuse the request id). */
  readonly attemptsMax: number;
  readonly thinkTimeMs: number;
  readonly linkDelayMs: number;
}

/** A history entry, completed in place when the logical request ends. */
interface Op {
  readonly clientId: number;
  readonly input: TopicInput;
  readonly call: number;
  output: TopicOutput | undefined;
  return: number | undefined;
  status: 'pending' | 'done';
}

export class MetadataWorkload {
  readonly history: Op[] = [];
  /** Requests that ended in an error with no effect (invalid input, no brokers): not part of the history. */
  rejected = 0;
  private issuing = true;
  private seq = 0;
  private leaderHint: NodeId = NONE;
  checkerMs = 0;
  checkerSteps = 0;

  constructor(private readonly world: World, private readonly options: MetadataClientOptions) {}

  start(): void {
    for (let c = 0; c < this.options.clients; c++) this.world.sched.after(200 + this.world.rngs.workload.nextFloat() * 100, () => this.next(c));
  }

  stopIssuing(): void {
    this.issuing = false;
  }

  private next(client: number): void {
    if (!this.issuing) return;
    const rng = this.world.rngs.workload;
    const name = rng.pick(this.options.topicNames);
    const roll = rng.nextFloat();
    const requestId = `m${client}-${++this.seq}`;
    let input: TopicInput;
    let call: (node: KeelNode, done: (r: AdminResult<unknown>) => void) => void;
    if (roll < 0.35) {
      const partitions = 1 + rng.nextInt(3);
      // Drawn once: every retry must send the same request under the same id.
      const replicationFactor = 1 + rng.nextInt(3);
      input = { type: 'create', key: name, value: { partitions, retentionMs: TOPIC_CONFIG_DEFAULTS['retention.ms'] } };
      call = (n, done) => n.createTopic({ requestId, name, partitions, replicationFactor }, done);
    } else if (roll < 0.4) {
      // One in six sets retention.ms back to its default (--delete-config).
      const step = rng.nextInt(6);
      const retentionMs = step === 0 ? TOPIC_CONFIG_DEFAULTS['retention.ms'] : 60_000 * step;
      input = { type: 'update', key: name, value: { retentionMs } };
      const change = step === 0 ? { configs: {}, deleteConfigs: ['retention.ms'] } : { configs: { 'retention.ms': String(retentionMs) } };
      call = (n, done) => n.alterTopicConfigs({ requestId, name, ...change }, done);
    } else if (roll < 0.45) {
      // Refused (INVALID_PARTITIONS) unless the topic has fewer: a refusal has no effect and leaves the history.
      const partitions = 2 + rng.nextInt(3);
      input = { type: 'update', key: name, value: { partitions } };
      call = (n, done) => n.createPartitions({ requestId, name, partitions }, done);
    } else if (roll < 0.6) {
      input = { type: 'delete', key: name };
      call = (n, done) => n.deleteTopic({ requestId, name }, done);
    } else if (roll < 0.85) {
      input = { type: 'get', key: name };
      call = (n, done) => n.describeTopic(name, 'linearizable', done);
    } else {
      input = { type: 'list' };
      call = (n, done) => n.listTopics('linearizable', done);
    }
    const op: Op = { clientId: client, input, call: this.world.now, output: undefined, return: undefined, status: 'pending' };
    this.history.push(op);
    this.attempt(op, call, 1, false);
  }

  private finish(op: Op, output: TopicOutput | undefined, definite: boolean): void {
    op.status = 'done';
    if (definite) {
      op.output = output;
      op.return = this.world.now;
    }
    const client = op.clientId;
    this.world.sched.after(this.options.thinkTimeMs * (0.5 + this.world.rngs.workload.nextFloat()), () => this.next(client));
  }

  private attempt(op: Op, call: (node: KeelNode, done: (r: AdminResult<unknown>) => void) => void, attempt: number, maybeApplied: boolean): void {
    const w = this.world;
    const ids = w.nodeIds;
    const target = this.leaderHint !== NONE && w.rngs.workload.chance(0.8) ? this.leaderHint : (ids[w.rngs.workload.nextInt(ids.length)] as NodeId);
    let answered = false;
    const retry = (unknown: boolean): void => {
      if (attempt >= this.options.attemptsMax) {
        // Out of attempts: if any attempt may have taken effect, the outcome is unknown.
        if (unknown || maybeApplied || op.input.type === 'get' || op.input.type === 'list') this.finish(op, undefined, false);
        else {
          this.rejected++;
          this.history.splice(this.history.indexOf(op), 1);
          this.finish(op, undefined, false);
        }
        return;
      }
      w.sched.after(50 * attempt, () => this.attempt(op, call, attempt + 1, maybeApplied || unknown));
    };
    w.sched.after(this.options.attemptTimeoutMs, () => {
      if (answered) return;
      answered = true;
      this.leaderHint = NONE;
      retry(true);
    });
    clientCall(w, target, this.options.linkDelayMs, 100 + op.clientId, (app) => {
      if (!(app instanceof KeelApp)) return;
      call(app.node, (r) => w.sched.after(this.options.linkDelayMs, () => {
        if (answered) return;
        answered = true;
        if (w.tracing) w.timeline(0, `admin ${op.clientId}: ${JSON.stringify(op.input)} -> ${r.ok ? 'ok' : r.error.code}`);
        this.handle(op, r, retry);
      }));
    });
  }

  private handle(op: Op, r: AdminResult<unknown>, retry: (unknown: boolean) => void): void {
    const i = op.input;
    if (r.ok) {
      const v = r.value as { value?: unknown };
      switch (i.type) {
        case 'create':
          return this.finish(op, { type: 'create', created: true }, true);
        case 'update':
          return this.finish(op, { type: 'update', existed: true }, true);
        case 'delete':
          return this.finish(op, { type: 'delete', existed: true }, true);
        case 'get': {
          const t = v.value as TopicDescription;
          return this.finish(op, { type: 'get', found: true, value: { partitions: t.partitions.length, retentionMs: t.configs['retention.ms'] } }, true);
        }
        case 'list':
          // Only this workload's names: other topics (the data workload's) are not part of this history.
          return this.finish(op, { type: 'list', keys: (v.value as string[]).filter((k) => this.options.topicNames.includes(k)) }, true);
        default:
          return this.finish(op, undefined, false);
      }
    }
    const code = r.error.code;
    if (code === 'TOPIC_ALREADY_EXISTS' && i.type === 'create') return this.finish(op, { type: 'create', created: false }, true);
    if (code === 'UNKNOWN_TOPIC' && i.type === 'delete') return this.finish(op, { type: 'delete', existed: false }, true);
    if (code === 'UNKNOWN_TOPIC' && i.type === 'update') return this.finish(op, { type: 'update', existed: false }, true);
    if (code === 'UNKNOWN_TOPIC' && i.type === 'get') return this.finish(op, { type: 'get', found: false }, true);
    if (code === 'NOT_CONTROLLER') {
      this.leaderHint = r.error.leader ?? NONE;
      return retry(false);
    }
    if (code === 'REQUEST_TIMED_OUT') return retry(true);
    // Refused when the command was applied (invalid input, too few brokers): the controller remembers that
    // decision under the request id and gives it to every attempt, so none of them, earlier ones that
    // timed out included, took effect.
    if (i.type === 'create' || i.type === 'update' || i.type === 'delete') {
      this.rejected++;
      this.history.splice(this.history.indexOf(op), 1);
    }
    this.finish(op, undefined, false);
  }

  /** Checks the admin history with the Wing–Gong–Lowe search; 'inconclusive' is not a pass. */
  linearizabilityViolations(): Violation[] {
    const ops: Operation<TopicInput, TopicOutput>[] = this.history.map(({ status: _s, ...o }) => o);
    const r = checkLinearizable(topicsModel(), ops, { stepsMax: 2_000_000 });
    this.checkerMs = r.elapsedMs;
    this.checkerSteps = r.steps;
    if (r.result === 'ok') return [];
    return [{ checker: r.result === 'illegal' ? 'linearizability' : 'linearizability-inconclusive', message: `admin history of ${ops.length} operations is ${r.result}: ${(r.explanation ?? '').split('\n').slice(0, 48).join(' | ')}`, atMs: this.world.now }];
  }

  /** Liveness after heal: an admin request completed within the bound, and none stayed unknown after. */
  livenessViolations(healStartMs: number, boundMs: number): Violation[] {
    const after = this.history.filter((o) => o.call >= healStartMs && o.status === 'done');
    const firstKnown = after.filter((o) => o.return !== undefined).reduce((m, o) => Math.min(m, o.return as number), Number.POSITIVE_INFINITY);
    if (!Number.isFinite(firstKnown) || firstKnown - healStartMs > boundMs) {
      return [{ checker: 'liveness', message: `no admin request completed within ${boundMs} ms of the heal (${after.length} tried)`, atMs: this.world.now }];
    }
    const stuck = after.filter((o) => o.call > firstKnown && o.return === undefined);
    if (stuck.length > 0) return [{ checker: 'liveness', message: `${stuck.length} admin requests ended without an answer after the healed controller recovered`, atMs: this.world.now }];
    return [];
  }

  counts(): { ops: number; known: number; unknown: number; rejected: number } {
    const known = this.history.filter((o) => o.output !== undefined).length;
    return { ops: this.history.length, known, unknown: this.history.length - known, rejected: this.rejected };
  }
}
