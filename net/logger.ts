// The Logger port on pino (DESIGN.md §2): one JSON object per line, the node id bound to every line so
// the logs of a three-node cluster can be merged and still read. JSON goes to a file or to stdout; a
// human at a terminal gets pino-pretty instead. Log writes are asynchronous (sonic-boom): a log line
// must never make a Raft turn wait on a slow terminal; flush() before exiting.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import pinoPretty from 'pino-pretty';
import type { Logger } from '../broker/ports.ts';
import type { NodeId } from '../raft/types.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface NodeLoggerOptions {
  readonly nodeId: NodeId;
  readonly level?: LogLevel;
  /**
   * Where lines go: a file path (appended, directories created), 'stdout', or 'pretty' (colourised
   * pino-pretty on stdout). Default: 'pretty' when stdout is a terminal, else 'stdout'.
   */
  readonly destination?: string;
}

export interface NodeLogger {
  /** The port handed to the core. */
  readonly logger: Logger;
  /** The underlying pino logger, for edge code that wants child loggers or pino's own API. */
  readonly pino: pino.Logger;
  /** Writes out buffered lines synchronously; call before the process exits. */
  flush(): void;
}

/** A pino-pretty stream on stdout: colours when it is a terminal, local time, no pid/hostname noise. */
export function prettyStream(): pinoPretty.PrettyStream {
  return pinoPretty({
    colorize: process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    destination: 1,
    sync: false,
  });
}

/** Adapts a pino logger to the Logger port (fields first: pino's merge-object convention). */
export function pinoLogger(p: pino.Logger): Logger {
  return {
    debug: (msg, fields) => (fields === undefined ? p.debug(msg) : p.debug(fields, msg)),
    info: (msg, fields) => (fields === undefined ? p.info(msg) : p.info(fields, msg)),
    warn: (msg, fields) => (fields === undefined ? p.warn(msg) : p.warn(fields, msg)),
    error: (msg, fields) => (fields === undefined ? p.error(msg) : p.error(fields, msg)),
  };
}

export function createNodeLogger(options: NodeLoggerOptions): NodeLogger {
  const where = options.destination ?? (process.stdout.isTTY === true ? 'pretty' : 'stdout');
  const pinoOptions: pino.LoggerOptions = {
    level: options.level ?? 'info',
    base: { node: options.nodeId },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (where === 'pretty') {
    const stream = prettyStream();
    const p = pino(pinoOptions, stream);
    return { logger: pinoLogger(p), pino: p, flush: () => p.flush() };
  }
  if (where !== 'stdout') mkdirSync(dirname(where), { recursive: true });
  const dest = pino.destination({ dest: where === 'stdout' ? 1 : where, sync: false });
  const p = pino(pinoOptions, dest);
  return {
    logger: pinoLogger(p),
    pino: p,
    flush: () => {
      // sonic-boom cannot flush synchronously before it has opened its file descriptor.
      try {
        dest.flushSync();
      } catch {
        p.flush();
      }
    },
  };
}
