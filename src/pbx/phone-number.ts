/**
 * Phone numbers and number patterns, as DIDs, routes and the blocklist use them.
 *
 * E.164 (ITU-T E.164 §6, written in the "+" form of RFC 3966 §5.1.4): a "+", then the
 * country code and subscriber number, 1 to 15 digits in all, never starting with 0.
 *
 * Number patterns (route `conditions.caller_id`, blocklist entries) are matched against the
 * whole caller string as the call engine receives it (the user part of From / P-Asserted-
 * Identity, e.g. "+15551234567" or "1001"), with no normalisation:
 *
 * | char      | matches                                          |
 * | --------- | ------------------------------------------------ |
 * | `0`-`9`, `+` | itself                                        |
 * | `X`       | exactly one digit                                |
 * | `*`       | any run of characters, possibly empty            |
 *
 * Examples: `+1555*` (a prefix), `+1555XXXXXXX` (exact length), `*666` (a suffix),
 * `+44*0000` (a segment).
 */

/** Source of the E.164 check, shared by the TypeBox schemas (OpenAPI shows it). */
export const E164_PATTERN = '^\\+[1-9][0-9]{0,14}$';

/** Source of the number-pattern grammar above (at most 32 characters). */
export const NUMBER_PATTERN = '^\\+?[0-9X*]{1,32}$';

const E164 = new RegExp(E164_PATTERN);
const NUMBER_PATTERN_RE = new RegExp(NUMBER_PATTERN);

export function isE164(s: string): boolean {
  return E164.test(s);
}

export function isNumberPattern(s: string): boolean {
  return NUMBER_PATTERN_RE.test(s);
}

/** True when the pattern has a wildcard, i.e. it can match more than one number. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('X');
}

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const STAR = 0x2a;
const X = 0x58;

/**
 * Whether `value` matches `pattern` as a whole (grammar in the module comment).
 * Linear wildcard matching with one backtrack point (the last `*`): no regex is built and
 * nothing is allocated, so the blocklist can be scanned on every INVITE.
 *
 * @example matchNumberPattern('+1555*', '+15551234567') // true
 * @example matchNumberPattern('10XX', '1001')           // true
 */
export function matchNumberPattern(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let starP = -1;
  let starV = 0;
  while (v < value.length) {
    const pc = p < pattern.length ? pattern.charCodeAt(p) : -1;
    const vc = value.charCodeAt(v);
    if (pc === STAR) {
      starP = p++;
      starV = v;
    } else if (pc !== -1 && (pc === vc || (pc === X && vc >= DIGIT_0 && vc <= DIGIT_9))) {
      p++;
      v++;
    } else if (starP !== -1) {
      // Let the last `*` swallow one more character and retry from there.
      p = starP + 1;
      v = ++starV;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === STAR) p++;
  return p === pattern.length;
}

/**
 * Whether any entry (exact number or pattern) matches `caller`: the blocklist check.
 * Pair it with the store's loader:
 *
 * @example
 * if (matchesAnyPattern(await blocklistCandidates(db, caller), caller)) reject(603);
 */
export function matchesAnyPattern(entries: readonly string[], caller: string): boolean {
  for (const e of entries) if (matchNumberPattern(e, caller)) return true;
  return false;
}
