/**
 * How a call attempt ended, in SIP and CDR terms: the best final answer among failed forks,
 * the CDR disposition of a status, and the answer to an SDP we cannot anchor.
 */
import { SdpError } from '../sdp/index.ts';
import { MediaError } from '../media/errors.ts';
import type { CdrDisposition } from '../store/cdrs.ts';
import { AnchorError } from './anchor-sdp.ts';

/** Response preference when every fork failed (RFC 3261 §16.7 step 6, simplified): the lower wins. */
export function better(a: number, b: number): number {
  const rank = (s: number) => (s >= 600 ? 0 : s === 486 ? 1 : s >= 300 && s < 400 ? 2 : s === 408 || s === 480 || s === 487 ? 5 : s >= 500 ? 4 : 3);
  return rank(a) <= rank(b) ? a : b;
}

export function dispositionFor(status: number): CdrDisposition {
  if (status === 486 || status === 600) return 'busy';
  if (status === 603 || status === 403) return 'rejected';
  if (status === 408 || status === 480) return 'no_answer';
  if (status === 487) return 'cancelled';
  return 'failed';
}

/** SIP answer for an SDP that cannot be anchored: status and headers (`Warning`, RFC 3261 §20.43). */
export function sdpFailure(err: unknown, agent: string): { status: number; reason: string | undefined; headers: Record<string, string> | undefined } | null {
  if (err instanceof AnchorError) return { status: 488, reason: 'Not Acceptable Here', headers: { Warning: err.header(agent) } };
  if (err instanceof SdpError || err instanceof MediaError) {
    const status = err.sipStatus;
    return { status, reason: status === 488 ? 'Not Acceptable Here' : status === 400 ? 'Bad Request (SDP)' : undefined, headers: undefined };
  }
  return null;
}
