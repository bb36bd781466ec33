// Node-to-node requests through the driver (broker/driver.ts): every request hears exactly one outcome,
// its answer, or "no answer" (undefined) at its timeout or when the node stops; requests and responses
// are addressed to an incarnation of their receiver, and another life of it drops them.
import { describe, expect, it } from 'vitest';
import { Driver } from '../../broker/driver.ts';
import { SILENT, type Clock, type Frame, type NodeRpc, type Ports, type TimerHandle } from '../../broker/ports.ts';
import { nodeId } from '../../raft/index.ts';

/** A clock that moves only when the test says so. */
class ManualClock implements Clock {
  private nowMs = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number { return this.nowMs; }
  wallMs(): number { return this.nowMs; }
  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.nowMs + delayMs, fn });
    return { id };
  }
  cancelTimer(handle: TimerHandle): void { this.timers.delete(handle.id); }
  advance(ms: number): void {
    const until = this.nowMs + ms;
    for (;;) {
      const due = [...this.timers].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.nowMs = due[1].at;
      due[1].fn();
    }
    this.nowMs = until;
  }
}

/** A frame to node 1 from `from` (that incarnation of it), carrying `rpcs`. */
function frameFrom(from: number, fromIncarnation: number, rpcs: NodeRpc[] = []): Frame {
  return { from: nodeId(from), to: nodeId(1), fromIncarnation, messages: [], rpcs };
}

function driverOn(clock: ManualClock): { driver: Driver; sent: Frame[] } {
  const sent: Frame[] = [];
  const ports: Ports = {
    clock,
    rng: { nextInt: () => 0 },
    transport: { send: (_to, frame) => sent.push(frame) },
    storage: { load: (done) => done(new Map(), null), write: (_batch, done) => clock.setTimer(1, () => done(null)) },
    logger: SILENT,
  };
  const driver = new Driver(nodeId(1), ports, 50, () => {});
  driver.start();
  return { driver, sent };
}

describe('driver requests', () => {
  it('hands the peer\'s response to the caller once', () => {
    const clock = new ManualClock();
    const { driver, sent } = driverOn(clock);
    const answers: unknown[] = [];
    driver.request(nodeId(2), 'm', { q: 1 }, 1_000, (body) => answers.push(body));
    clock.advance(0);
    const rpc = sent.flatMap((f) => f.rpcs).find((r) => r.kind === 'request');
    expect(rpc).toMatchObject({ method: 'm', body: { q: 1 } });
    driver.receive(frameFrom(2, 0, [{ kind: 'response', id: rpc?.id ?? -1, method: 'm', body: 'yes', toIncarnation: 0 }]));
    clock.advance(5_000);
    expect(answers).toEqual(['yes']);
  });

  it('says "no answer" at the timeout, and ignores a response that comes later', () => {
    const clock = new ManualClock();
    const { driver, sent } = driverOn(clock);
    const answers: unknown[] = [];
    driver.request(nodeId(2), 'm', {}, 1_000, (body) => answers.push(body));
    clock.advance(999);
    expect(answers).toEqual([]);
    clock.advance(1);
    expect(answers).toEqual([undefined]);
    const id = sent.flatMap((f) => f.rpcs)[0]?.id ?? -1;
    driver.receive(frameFrom(2, 0, [{ kind: 'response', id, method: 'm', body: 'late', toIncarnation: 0 }]));
    expect(answers).toEqual([undefined]);
  });

  it('says "no answer" to every waiting request when the node stops, and never again', () => {
    const clock = new ManualClock();
    const { driver } = driverOn(clock);
    const answers: string[] = [];
    driver.request(nodeId(2), 'a', {}, 1_000, (body) => answers.push(`a:${String(body)}`));
    driver.request(nodeId(3), 'b', {}, 5_000, (body) => answers.push(`b:${String(body)}`));
    clock.advance(10);
    driver.stop();
    expect(answers).toEqual(['a:undefined', 'b:undefined']);
    clock.advance(10_000);
    driver.request(nodeId(2), 'c', {}, 1_000, (body) => answers.push(`c:${String(body)}`));
    expect(answers).toEqual(['a:undefined', 'b:undefined', 'c:undefined']);
  });

  it('a request meant for an earlier life of this node gets no verdict, only word of the new life (scenarios/seeds/swarm-360254)', () => {
    const clock = new ManualClock();
    const { driver, sent } = driverOn(clock);
    driver.incarnation = 2;
    driver.handle('controller.write', (_from, _body, reply) => reply('NOT_CONTROLLER'));
    const request = (id: number, toIncarnation: number): Frame => frameFrom(2, 7, [{ kind: 'request', id, method: 'controller.write', body: {}, toIncarnation }]);
    // A copy of a request the first life received (and may have proposed), delivered after the restart.
    driver.receive(request(9, 1));
    // Meant for this life, or for whichever life gets it.
    driver.receive(request(10, 2));
    driver.receive(request(11, 0));
    clock.advance(0);
    const answers = sent.flatMap((f) => f.rpcs);
    expect(answers.map((r) => [r.id, r.kind, r.toIncarnation, r.body])).toEqual([[9, 'unanswered', 7, undefined], [10, 'response', 7, 'NOT_CONTROLLER'], [11, 'response', 7, 'NOT_CONTROLLER']]);
    expect(sent.every((f) => f.fromIncarnation === 2)).toBe(true);
  });

  it('addresses requests to the peer\'s incarnation as its last frame said, and drops responses meant for another life of this node', () => {
    const clock = new ManualClock();
    const { driver, sent } = driverOn(clock);
    driver.incarnation = 3;
    const answers: unknown[] = [];
    driver.receive(frameFrom(2, 4));
    driver.receive(frameFrom(2, 5));
    driver.request(nodeId(2), 'm', {}, 1_000, (body) => answers.push(body));
    clock.advance(0);
    const rpc = sent.flatMap((f) => f.rpcs).find((r) => r.kind === 'request');
    expect(rpc?.toIncarnation).toBe(5);
    // A peer whose disk was replaced counts from 1 again: it is addressed as it says.
    driver.receive(frameFrom(3, 6));
    driver.receive(frameFrom(3, 1));
    driver.request(nodeId(3), 'm', {}, 1_000, () => {});
    clock.advance(0);
    expect(sent.flatMap((f) => f.rpcs).filter((r) => r.kind === 'request').map((r) => r.toIncarnation)).toEqual([5, 1]);
    // A response with the same id, but to a request of this node's previous life.
    driver.receive(frameFrom(2, 5, [{ kind: 'response', id: rpc?.id ?? -1, method: 'm', body: 'old', toIncarnation: 2 }]));
    expect(answers).toEqual([]);
    driver.receive(frameFrom(2, 5, [{ kind: 'response', id: rpc?.id ?? -1, method: 'm', body: 'new', toIncarnation: 3 }]));
    expect(answers).toEqual(['new']);
  });

  it('a request the peer\'s new life did not answer ends as "no answer" at once, and the next one reaches the new life', () => {
    const clock = new ManualClock();
    const { driver, sent } = driverOn(clock);
    driver.incarnation = 1;
    const answers: unknown[] = [];
    driver.receive(frameFrom(2, 4));
    driver.request(nodeId(2), 'controller.write', {}, 5_000, (body) => answers.push(body));
    clock.advance(0);
    const first = sent.flatMap((f) => f.rpcs)[0];
    expect(first?.toIncarnation).toBe(4);
    // Node 2 restarted as incarnation 6 and sent nothing since: its first word is the unanswered request.
    driver.receive(frameFrom(2, 6, [{ kind: 'unanswered', id: first?.id ?? -1, method: 'controller.write', body: undefined, toIncarnation: 1 }]));
    expect(answers).toEqual([undefined]);
    driver.request(nodeId(2), 'controller.write', {}, 5_000, () => {});
    clock.advance(0);
    expect(sent.flatMap((f) => f.rpcs).map((r) => r.toIncarnation)).toEqual([4, 6]);
  });
});
