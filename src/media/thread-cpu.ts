/**
 * CPU time of the calling thread. `process.cpuUsage()` is process-wide even inside a worker,
 * so on Linux we read `/proc/thread-self/stat` (proc(5): fields 14 utime and 15 stime, in clock
 * ticks). The read is synchronous on purpose: an async read would run on a libuv pool thread
 * and report that thread instead. Called once per tick, never per packet.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime; 100 on every Linux ABI Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

let unavailable = process.platform !== 'linux';

/** @returns user + system CPU ms of the current thread, or -1 when the OS does not tell. */
export function threadCpuMs(): number {
  if (unavailable) return -1;
  try {
    return parseThreadStatCpuMs(readFileSync('/proc/thread-self/stat', 'latin1'));
  } catch {
    unavailable = true;
    return -1;
  }
}

/**
 * Parses a `/proc/.../stat` line. The command name (field 2) is in parentheses and may contain
 * spaces or parentheses itself, so fields are counted from the last ')'.
 */
export function parseThreadStatCpuMs(stat: string): number {
  const close = stat.lastIndexOf(')');
  if (close < 0) return -1;
  // After ")": field 3 (state) is index 0, so utime (field 14) is index 11, stime index 12.
  const fields = stat.slice(close + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return -1;
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
}
