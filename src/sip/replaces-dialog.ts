/**
 * What a UAS does with an INVITE that carries Replaces (RFC 3891 §3): find the dialog it names
 * and decide whether the new INVITE may take its place. Pure: the caller looks the dialog up
 * (by `replacesDialogKey`) and tells us its state; we say accept or which status to answer.
 */
import { dialogKey } from './dialog.ts';
import type { SipMessage } from './message.ts';
import { parseReplaces } from './header-replaces.ts';
import type { Replaces } from './header-replaces.ts';
import { SipReferError, SipReferErrorCode } from './refer-errors.ts';

/**
 * The Replaces of a request, or null when it has none.
 *
 * @throws SipReferError (sipStatus 400): Replaces in a request other than INVITE, more than one
 *   Replaces (§3), or a malformed value (§6.1).
 */
export function replacesOfRequest(req: SipMessage): Replaces | null {
  const values = req.getHeaders('replaces');
  if (values.length === 0) return null;
  if (req.method !== 'INVITE') {
    throw new SipReferError(SipReferErrorCode.REPLACES_MISPLACED, `Replaces in a ${req.method} (RFC 3891 §3: INVITE only)`);
  }
  // Replaces is not a list header: a second value is a second line, or a comma in one line.
  if (values.length > 1 || values[0].indexOf(',') !== -1) {
    throw new SipReferError(SipReferErrorCode.REPLACES_MISPLACED, 'more than one Replaces (RFC 3891 §3)');
  }
  return parseReplaces(values[0]);
}

/**
 * The key under which the recipient stores the replaced dialog (`Dialog.key`): to-tag is its
 * local tag, from-tag its remote tag (RFC 3891 §3).
 */
export function replacesDialogKey(r: Replaces): string {
  return dialogKey(r.callId, r.toTag, r.fromTag);
}

/** What the recipient knows of the dialog a Replaces matched. */
export interface ReplacedDialog {
  state: 'early' | 'confirmed' | 'terminated';
  /** True when the recipient sent the INVITE that created the dialog (it is the dialog's UAC). */
  initiatedLocally: boolean;
}

/**
 * RFC 3891 §3 decision: 0 = replace the dialog (after authorising the sender), else the status
 * to answer the new INVITE with:
 *
 * | situation | answer |
 * | --- | --- |
 * | no dialog matches | 481 |
 * | the dialog has terminated | 603 |
 * | confirmed, and the Replaces says `early-only` | 486 |
 * | early, and not initiated by the recipient (it is ringing here) | 481 |
 * | otherwise | 0 (accept) |
 */
export function replacesDecision(r: Replaces, dialog: ReplacedDialog | null): 0 | 481 | 486 | 603 {
  if (dialog === null) return 481;
  if (dialog.state === 'terminated') return 603;
  if (dialog.state === 'confirmed') return r.earlyOnly ? 486 : 0;
  return dialog.initiatedLocally ? 0 : 481;
}
