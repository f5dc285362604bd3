/**
 * The order in which SRV targets are tried (RFC 2782, "Usage rules"): lowest priority
 * first; within one priority, a weighted random order — each pick draws a number in
 * [0, total weight] and takes the first record whose running weight sum reaches it, so a
 * record of weight 0 is picked first only by chance 0 while others remain. Records whose
 * target is "." say "service not available here" (RFC 2782) and are dropped.
 */

/** One SRV record as `node:dns` returns it. */
export interface SrvRecordLike {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

/**
 * @param random returns a number in [0, 1) (tests inject a sequence)
 * @example
 * ```ts
 * orderSrv([{ name: 'a', port: 5060, priority: 10, weight: 60 }, { name: 'b', port: 5060, priority: 10, weight: 40 }], Math.random);
 * ```
 */
export function orderSrv<R extends SrvRecordLike>(records: readonly R[], random: () => number = Math.random): R[] {
  const usable = records.filter((r) => r.name !== '' && r.name !== '.');
  const priorities = [...new Set(usable.map((r) => r.priority))].sort((a, b) => a - b);
  const out: R[] = [];
  for (const priority of priorities) {
    // Zero weights first, as RFC 2782 asks, so they keep a small chance of going first.
    const left = usable.filter((r) => r.priority === priority).sort((a, b) => a.weight - b.weight);
    while (left.length > 0) {
      const total = left.reduce((sum, r) => sum + r.weight, 0);
      const draw = Math.floor(random() * (total + 1));
      let running = 0;
      let index = left.length - 1;
      for (let i = 0; i < left.length; i++) {
        running += left[i]!.weight;
        if (running >= draw) { index = i; break; }
      }
      out.push(left.splice(index, 1)[0]!);
    }
  }
  return out;
}
