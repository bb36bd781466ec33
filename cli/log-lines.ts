// Node logs as `keel cluster up` shows them: each line a node wrote (pino JSON) prettified on a terminal
// (pino-pretty), or passed through as JSON otherwise, prefixed with the node's name.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import pinoPretty from 'pino-pretty';

export function logLinePrinter(name: string, pretty: boolean, out: NodeJS.WritableStream = process.stdout): (line: string) => void {
  const format = pretty ? pinoPretty.prettyFactory({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,node' }) : null;
  return (line: string): void => {
    if (line.trim() === '') return;
    if (format === null || !line.startsWith('{')) {
      out.write(`[${name}] ${line}\n`);
      return;
    }
    try {
      out.write(`[${name}] ${format(JSON.parse(line) as object)}`);
    } catch {
      out.write(`[${name}] ${line}\n`);
    }
  };
}

/** Follows a growing file from its current end, calling `onLine` for each new line, until `done()`. */
export function tailFile(path: string, onLine: (line: string) => void, done: () => boolean, pollMs = 150): void {
  // Start at the current end (a previous run's lines are old news), or at 0 for a file not there yet.
  let position = 0;
  try {
    position = statSync(path).size;
  } catch {
    position = 0;
  }
  let partial = '';
  const buf = Buffer.alloc(64 * 1024);
  const poll = (): void => {
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      if (!done()) setTimeout(poll, pollMs).unref();
      return;
    }
    if (size < position) position = 0; // truncated or replaced
    if (size > position) {
      const fd = openSync(path, 'r');
      try {
        while (position < size) {
          const n = readSync(fd, buf, 0, Math.min(buf.length, size - position), position);
          if (n <= 0) break;
          position += n;
          const lines = (partial + buf.subarray(0, n).toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) onLine(line);
        }
      } finally {
        closeSync(fd);
      }
    }
    if (!done()) setTimeout(poll, pollMs).unref();
  };
  poll();
}
