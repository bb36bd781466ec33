// The full Keel node in the simulator: the same KeelNode the real runtime runs, on simulated ports.
import { KeelNode, type KeelNodeConfig, type KeelObserver } from '../../broker/keel-node.ts';
import type { Frame, Ports, StorageError } from '../../broker/ports.ts';
import type { SimApp } from '../world.ts';

export class KeelApp implements SimApp {
  readonly node: KeelNode;

  constructor(config: KeelNodeConfig, ports: Ports, onFatal: (err: StorageError) => void, observer: KeelObserver) {
    this.node = new KeelNode(config, ports, observer, onFatal);
  }

  start(): void {
    this.node.start();
  }

  stop(): void {
    this.node.stop();
  }

  receive(frame: Frame): void {
    this.node.receive(frame);
  }

  get writeInFlight(): boolean {
    return this.node.writeInFlight;
  }
}
