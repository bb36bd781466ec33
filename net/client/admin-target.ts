// Where the next admin request goes. Any node serves admin requests (it forwards to the controller
// leader), so the target is simply the last node that answered; a failed attempt moves on, to the
// controller leader the error named (keel-leader-address) if any, else to the next bootstrap address.
// It also remembers which addresses could not be connected to, so that a cluster that is not running
// gives one clear error instead of a timeout.
import type { KeelError } from './errors.ts';

export class AdminTarget {
  /** Index into `bootstrap` of the next address to rotate to. */
  private cursor = 0;
  private target: string;
  /** Addresses whose last attempt failed to connect, with the reason; cleared when one answers. */
  private readonly unreachable = new Map<string, string>();

  constructor(private readonly bootstrap: readonly string[]) {
    const first = bootstrap[0];
    if (first === undefined) throw new Error('AdminTarget needs at least one bootstrap address');
    this.target = first;
    this.cursor = 1 % bootstrap.length;
  }

  current(): string {
    return this.target;
  }

  /** `address` answered (even with an error that came from a broker): it is reachable. */
  answered(address: string): void {
    this.unreachable.delete(address);
  }

  /** An attempt at `address` failed with `e`: pick the next target. */
  failed(address: string, e: KeelError): void {
    if (e.code === 'CONNECTION_FAILED') this.unreachable.set(address, reasonOf(e));
    else if (e.grpcStatus !== null) this.answered(address);
    if (address !== this.target) return;
    if (e.leaderAddress !== undefined && e.leaderAddress !== address && !this.unreachable.has(e.leaderAddress)) {
      this.target = e.leaderAddress;
      return;
    }
    this.rotate(address);
  }

  /** Every bootstrap address failed to connect, and none answered since. */
  allUnreachable(): boolean {
    return this.bootstrap.every((a) => this.unreachable.has(a));
  }

  /** "cannot reach any bootstrap address: 127.0.0.1:9092 (connection refused), ..." */
  unreachableMessage(): string {
    return `cannot reach any bootstrap address: ${this.bootstrap.map((a) => `${a} (${this.unreachable.get(a) ?? 'no answer'})`).join(', ')}`;
  }

  private rotate(from: string): void {
    // Next bootstrap address that is not the one that just failed.
    for (let i = 0; i < this.bootstrap.length; i++) {
      const candidate = this.bootstrap[this.cursor] as string;
      this.cursor = (this.cursor + 1) % this.bootstrap.length;
      if (candidate !== from || this.bootstrap.length === 1) {
        this.target = candidate;
        return;
      }
    }
  }
}

function reasonOf(e: KeelError): string {
  const m = /\(([^()]+)\)$/.exec(e.message);
  return m?.[1] ?? 'no connection';
}
