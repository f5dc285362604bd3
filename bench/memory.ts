/** Memory readings for the benchmarks' budgets (this process: the server runs in it). */
import { statusMb } from './proc.ts';
import v8 from 'node:v8';
import vm from 'node:vm';

/** Resident set now (VmRSS), MB; `resourceUsage().maxRSS` is the peak. */
export function currentRssMb(): number {
  return statusMb('self', 'VmRSS');
}

let gc: (() => void) | undefined;

/** RSS and V8 heap in use (MB) after full collections, once the allocator has settled. */
export async function footprint(): Promise<{ rss: number; heap: number }> {
  if (gc === undefined) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 500));
  }
  return { rss: currentRssMb(), heap: v8.getHeapStatistics().used_heap_size / 1024 / 1024 };
}
