/**
 * The Reason header (RFC 3326) a B2BUA puts in the CANCELs it sends, so a phone knows why its
 * ringing stopped: `SIP;cause=200;text="Call completed elsewhere"` when another fork answered —
 * desk phones (Yealink, Polycom, Cisco, Snom) then log no missed call — or the cause the caller's
 * own CANCEL carried, passed on when it is well formed ({@link reasonsToPass}).
 */
import { quote } from './digest-params.ts';

/** `SIP;cause=<cause>[;text="<text>"]` (RFC 3326 §2, protocol "SIP", a status code as cause). */
export function sipReason(cause: number, text?: string): string {
  return `SIP;cause=${cause}` + (text === undefined ? '' : `;text=${quote(text)}`);
}

/** What forks that lost to an answer are cancelled with (RFC 3326 §2's example wording, common to PBXs). */
export const COMPLETED_ELSEWHERE = sipReason(200, 'Call completed elsewhere');

const TOKEN = "[A-Za-z0-9.!%*_+`'~-]+";
const REASON_VALUE = new RegExp(`^${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}(?:[ \\t]*=[ \\t]*(?:${TOKEN}|"(?:[^"\\\\\\x00-\\x1f]|\\\\[^\\x00-\\x1f])*"))?)*$`);
/** A Reason value passed on is short; a caller's longer one is not forwarded. */
const MAX_PASSED_LENGTH = 200;

/**
 * The caller's Reason values fit to pass on to the phones it rang (RFC 3326 §2 grammar:
 * protocol *(; param), a token or quoted-string each; at most two values, 200 octets each):
 * a device or carrier cannot make us carry anything else.
 */
export function reasonsToPass(values: readonly string[]): string[] {
  return values.filter((v) => v.length <= MAX_PASSED_LENGTH && REASON_VALUE.test(v)).slice(0, 2);
}
