/**
 * Twilio's CallSid of an incoming call: Twilio copies the `X-Strowger-Call-Sid` header of the
 * `<Dial><Sip>` URI we answered (`twilio-dial-uri.ts`) into its INVITE. Anyone can send that
 * header, so it is believed only on an INVITE from a trunk's inbound host (the caller decides
 * that) and only in the CallSid's own shape (`CA` + 32 alphanumerics); anything else is null.
 */
import type { SipMessage } from '../sip/message.ts';

export const TWILIO_CALL_SID_HEADER = 'X-Strowger-Call-Sid';

const CALL_SID = /^CA[0-9a-zA-Z]{32}$/;

/** The CallSid of `invite`, null when absent or malformed (percent-encoding is undone). */
export function twilioCallSidOf(invite: SipMessage): string | null {
  const raw = invite.getHeader(TWILIO_CALL_SID_HEADER)?.trim();
  if (!raw) return null;
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    return null;
  }
  return CALL_SID.test(value) ? value : null;
}
