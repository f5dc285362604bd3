/**
 * The Reason header (RFC 3326) a B2BUA puts in the CANCELs it sends, so a phone knows why its
 * ringing stopped: `SIP;cause=200;text="Call completed elsewhere"` when another fork answered —
 * phones (Yealink, Polycom, Cisco, Snom, baresip) then log no missed call — or the cause the
 * caller's own CANCEL carried, passed on as it came.
 */
import { quote } from './digest-params.ts';

/** `SIP;cause=<cause>[;text="<text>"]` (RFC 3326 §2, protocol "SIP", a status code as cause). */
export function sipReason(cause: number, text?: string): string {
  return `SIP;cause=${cause}` + (text === undefined ? '' : `;text=${quote(text)}`);
}

/** What forks that lost to an answer are cancelled with (RFC 3326 §2's example wording, common to PBXs). */
export const COMPLETED_ELSEWHERE = sipReason(200, 'Call completed elsewhere');
