/**
 * `a=fmtp` parameter lists (RFC 8866 §6.15): `key=value` pairs separated by `;`. Opus (RFC 7587
 * §6.1) and telephone-event (RFC 4733 §2.4.1, a bare `0-16`) both use this shape.
 */

/** Parses `"useinbandfec=1; usedtx=1"` into a map with lower-case keys; a bare token maps to `''`. */
export function parseFmtp(fmtp: string | null | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!fmtp) return out;
  for (const part of fmtp.split(';')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) out.set(item.toLowerCase(), '');
    else out.set(item.slice(0, eq).trim().toLowerCase(), item.slice(eq + 1).trim());
  }
  return out;
}

/** `true` when `key` is present with value `1` (RFC 7587 flags default to 0). */
export function fmtpFlag(params: Map<string, string>, key: string): boolean {
  return params.get(key) === '1';
}

/** Integer value of `key`, or `undefined` when absent or not a positive integer. */
export function fmtpInt(params: Map<string, string>, key: string): number | undefined {
  const v = params.get(key);
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}
