// The node the simulator runs for Raft-level scenarios: the real NodeHost (driver, replicas, storage
// layout) hosting one register group.
import { NodeHost, DEFAULT_REPLICA_OPTIONS, type RaftTuning } from '../../broker/node-host.ts';
import type { GroupObserver } from '../../broker/observer.ts';
import type { Frame, GroupId, Ports, StorageError } from '../../broker/ports.ts';
import type { ProposeOutcome, ReplicaOptions } from '../../broker/replica.ts';
import type { ConfChange, NodeId } from '../../raft/types.ts';
import type { SimApp } from '../world.ts';
import { RegisterMachine } from './register-machine.ts';

export const REGISTER_GROUP: GroupId = 1;

export interface RaftAppOptions {
  readonly tickMs: number;
  readonly voters: readonly NodeId[];
  readonly raft: RaftTuning;
  readonly replica: Partial<ReplicaOptions>;
}

export class RaftApp implements SimApp {
  readonly host: NodeHost;
  private readonly machines = new Map<GroupId, RegisterMachine>();

  constructor(id: NodeId, ports: Ports, onFatal: (err: StorageError) => void, observer: GroupObserver, options: RaftAppOptions) {
    this.host = new NodeHost({
      nodeId: id,
      tickMs: options.tickMs,
      raft: options.raft,
      replica: { ...DEFAULT_REPLICA_OPTIONS, ...options.replica },
      bootstrap: options.voters.includes(id) ? [{ group: REGISTER_GROUP, voters: options.voters }] : [],
      stateMachine: (group) => {
        const m = new RegisterMachine();
        this.machines.set(group, m);
        return m;
      },
    }, ports, observer, onFatal);
  }

  start(): void {
    this.host.start();
  }

  stop(): void {
    this.host.stop();
  }

  receive(frame: Frame): void {
    this.host.driver.receive(frame);
  }

  get writeInFlight(): boolean {
    return this.host.driver.writeInFlight;
  }

  machine(group: GroupId = REGISTER_GROUP): RegisterMachine | undefined {
    return this.host.replica(group) === undefined ? undefined : this.machines.get(group);
  }

  propose(data: Uint8Array, done: (o: ProposeOutcome) => void): void {
    const r = this.host.replica(REGISTER_GROUP);
    if (r === undefined) return done({ ok: false, code: 'GROUP_STOPPED', leader: 0 as NodeId });
    r.propose(data, done);
  }

  proposeConfChange(cc: ConfChange, done: (o: ProposeOutcome) => void): void {
    const r = this.host.replica(REGISTER_GROUP);
    if (r === undefined) return done({ ok: false, code: 'GROUP_STOPPED', leader: 0 as NodeId });
    r.proposeConfChange(cc, done);
  }
}
