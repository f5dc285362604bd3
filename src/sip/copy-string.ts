/**
 * A copy of `s` that does not point into the string it was sliced from. V8 keeps substrings as
 * views of their parent, so a Call-ID or nonce cut out of a received message keeps the whole
 * message's text alive for as long as it is held (a nonce in the nonce-count table, a binding's
 * Call-ID: its registration). Slicing a concatenation flattens it into fresh characters first.
 */
export function copyString(s: string): string {
  return (' ' + s).slice(1);
}
