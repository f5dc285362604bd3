/**
 * Twilio's side of webhooks: the signature check (`X-Twilio-Signature`, HMAC-SHA1 of the URL
 * Twilio called and the sorted POST parameters under the auth token,
 * https://www.twilio.com/docs/usage/webhooks/webhooks-security) and the TwiML we answer with.
 * TwiML is built with the SDK's `VoiceResponse`/`MessagingResponse`, which XML-escape every
 * text and attribute, so no caller-supplied value can close an element (no TwiML injection).
 */
// The two parts of the SDK these need, not its root: that loads every REST resource and axios.
import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import VoiceResponse from 'twilio/lib/twiml/VoiceResponse.js';
import MessagingResponse from 'twilio/lib/twiml/MessagingResponse.js';

/** True when `signature` is Twilio's for `url` and `params` (both as Twilio sent them). */
export function isValidTwilioSignature(authToken: string, signature: string, url: string, params: Record<string, string | string[]>): boolean {
  return validateRequest(authToken, signature, url, params);
}

/** `<Response><Dial><Sip>uri</Sip></Dial></Response>`: Twilio calls `uri` over SIP. */
export function dialSipTwiml(uri: string): string {
  const r = new VoiceResponse();
  r.dial().sip(uri);
  return r.toString();
}

/** `<Response><Reject reason="…"/></Response>`: the call is refused before it is answered (no charge). */
export function rejectTwiml(reason: 'rejected' | 'busy' = 'rejected'): string {
  const r = new VoiceResponse();
  r.reject({ reason });
  return r.toString();
}

/** `<Response/>`: a message webhook handled, nothing to reply. */
export function emptyMessagingTwiml(): string {
  return new MessagingResponse().toString();
}
