// CPU time used by processes, from /proc (Linux): user + system time of every thread, in ms. A benchmark
// reports it per record next to its rate, because on a shared 2-core machine the rate swings with the
// host while the CPU spent per record moves much less: it is the number to compare two builds by.
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's time fields (USER_HZ: 100 on every Linux this runs on). */
const TICKS_PER_SECOND = 100;

/** The process's CPU time so far in ms, or null where /proc is not readable (not Linux, process gone). */
export function processCpuMs(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command name, which is in parentheses and may itself hold spaces or ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  if (!Number.isFinite(userTicks) || !Number.isFinite(systemTicks)) return null;
  return ((userTicks + systemTicks) * 1000) / TICKS_PER_SECOND;
}

/** Starts measuring: the returned function gives the CPU ms the processes spent since, or null if unreadable. */
export function cpuMeter(pids: readonly number[]): () => number | null {
  const before = pids.map(processCpuMs);
  return () => {
    let total = 0;
    for (const [i, pid] of pids.entries()) {
      const start = before[i];
      const end = processCpuMs(pid);
      if (start === null || start === undefined || end === null) return null;
      total += end - start;
    }
    return total;
  };
}
