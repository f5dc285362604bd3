/**
 * Word error rate: (substitutions + deletions + insertions) / reference words, from the
 * word-level Levenshtein distance (the usual ASR measure, as NIST sclite computes it).
 * Words are compared lowercase without punctuation.
 *
 * @example wordErrorRate('call me back', 'call be back now') // 2/3: one substitution, one insertion
 */
export function normalizeWords(text: string): string[] {
  return text.toLowerCase().replace(/[^a-z0-9' ]+/g, ' ').split(/\s+/).filter(Boolean);
}

/** Edit distance in words between `reference` and `hypothesis`, and the reference length. */
export function wordErrors(reference: string, hypothesis: string): { errors: number; words: number } {
  const r = normalizeWords(reference);
  const h = normalizeWords(hypothesis);
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j);
  for (let i = 1; i <= r.length; i++) {
    const cur = [i];
    for (let j = 1; j <= h.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (r[i - 1] === h[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return { errors: prev[h.length]!, words: r.length };
}

/** WER of one hypothesis (may exceed 1 with many insertions); 0 for two empty texts. */
export function wordErrorRate(reference: string, hypothesis: string): number {
  const { errors, words } = wordErrors(reference, hypothesis);
  return words === 0 ? (errors === 0 ? 0 : 1) : errors / words;
}
