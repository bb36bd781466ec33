// Opt-in timing of every hop a request takes through a real node (bench/hop-trace.ts reads it): the
// node's ports, its frame handler and its produce entry are wrapped, so the core is untouched, and
// nothing is recorded unless tracing is on.
// Marks are wall-clock microseconds (performance.timeOrigin + now(): comparable across the processes
// of one machine) with a short label:
//   request / answer   a produce reached the node, and its answer was handed to the stream
//   turn               a zero-delay timer fired (the driver's turn, or a write completion without ops)
//   write / written    a storage batch was issued, and was durable
//   send>N / recv<N    a frame to / from node N
// Recording costs a clock read and two stores into preallocated arrays; off, a branch.
import type { KeelNode } from '../broker/keel-node.ts';
import type { Frame, Ports } from '../broker/ports.ts';

/**
 * `keel node start` traces when this names a directory: SIGUSR2 starts a recording, the next one writes
 * it to <dir>/hops-<id>.json (bench/hop-trace.ts sets it for the nodes it starts).
 */
export const HOP_TRACE_DIR_ENV = 'KEEL_HOP_TRACE_DIR';

/** Marks kept per recording; later ones are dropped (a bench records a few thousand requests). */
const MARKS_MAX = 1 << 20;

export interface HopMark {
  readonly us: number;
  readonly label: string;
}

export class HopTrace {
  private readonly times = new Float64Array(MARKS_MAX);
  private readonly labels: string[] = new Array<string>(MARKS_MAX);
  private count = 0;
  private recording = false;

  get isRecording(): boolean {
    return this.recording;
  }

  /** Starts a recording (what an earlier one kept is discarded). */
  start(): void {
    this.count = 0;
    this.recording = true;
  }

  /** Ends the recording and returns its marks in order. */
  stop(): HopMark[] {
    this.recording = false;
    const marks: HopMark[] = [];
    for (let i = 0; i < this.count; i++) marks.push({ us: this.times[i] as number, label: this.labels[i] as string });
    return marks;
  }

  mark(label: string): void {
    if (!this.recording || this.count >= MARKS_MAX) return;
    this.times[this.count] = (performance.timeOrigin + performance.now()) * 1000;
    this.labels[this.count++] = label;
  }
}

/** The node's ports with turns, storage writes and sent frames marked on `trace`. */
export function tracePorts(ports: Ports, trace: HopTrace): Ports {
  const { clock, storage, transport } = ports;
  return {
    ...ports,
    clock: {
      now: () => clock.now(),
      wallMs: () => clock.wallMs(),
      cancelTimer: (h) => clock.cancelTimer(h),
      setTimer: (delayMs, fn) => clock.setTimer(delayMs, delayMs !== 0 ? fn : () => {
        trace.mark('turn');
        fn();
      }),
    },
    storage: {
      load: (done) => storage.load(done),
      write: (batch, done) => {
        trace.mark('write');
        storage.write(batch, (err) => {
          trace.mark('written');
          done(err);
        });
      },
    },
    transport: {
      send: (to, frame) => {
        trace.mark(`send>${to}`);
        transport.send(to, frame);
      },
    },
  };
}

/** The transport's frame handler, marking each frame as it arrives (decoded). */
export function traceFrames(trace: HopTrace, onFrame: (frame: Frame) => void): (frame: Frame) => void {
  return (frame) => {
    trace.mark(`recv<${frame.from}`);
    onFrame(frame);
  };
}

/** Marks produce requests where every client path (unary, stream) enters the node, and their answers. */
export function traceProduce(node: KeelNode, trace: HopTrace): void {
  const produce = node.produce.bind(node);
  node.produce = (req, done) => {
    trace.mark('request');
    produce(req, (r) => {
      trace.mark('answer');
      done(r);
    });
  };
}
