/** Readings of a process from Linux's /proc, for the benchmarks that run their subject (our server, Kamailio) in another process. */
import { readFileSync } from 'node:fs';

/** USER_HZ on Linux: the unit of /proc/<pid>/stat's CPU times. */
export const TICKS_PER_SECOND = 100;

/** User + system CPU of `pid` (all its threads) in clock ticks; 0 once it is gone. */
export function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime, stime
  } catch {
    return 0;
  }
}

/** A `kB` field of /proc/<pid>/status (e.g. VmRSS, VmHWM) in MiB; NaN when absent. */
export function statusMb(pid: number | 'self', field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m ? Number(m[1]) / 1024 : NaN;
}
