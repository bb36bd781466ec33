// Whether frames written to HTTP/2 streams in this pass of the event loop are still in the process.
// Node's HTTP/2 sessions send what was written to their streams from a native immediate, and native
// immediates run just before the JS immediates of the same check phase: so what was written before a
// setImmediate callback runs has left by the time it does. The node's LevelDB writes use this to start
// at once when nothing waits to be sent (a follower's append), and to wait for the flush otherwise (a
// leader's appends must leave before it builds its own batch: net/leveldb-storage.ts).

export class SendFlush {
  private waiting = false;
  private readonly flushedFn = (): void => {
    this.waiting = false;
  };

  /** Frames were just written to a stream. */
  noteSend(): void {
    if (this.waiting) return;
    this.waiting = true;
    setImmediate(this.flushedFn);
  }

  /** Frames written in this pass have not been sent yet. */
  get pending(): boolean {
    return this.waiting;
  }
}
