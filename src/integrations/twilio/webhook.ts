/**
 * Twilio's side of webhooks: the signature check (`X-Twilio-Signature`, HMAC-SHA1 of the URL
 * Twilio called and the sorted POST parameters under the auth token,
 * https://www.twilio.com/docs/usage/webhooks/webhooks-security) and the TwiML we answer with.
 * TwiML is built with the SDK's `VoiceResponse`/`MessagingResponse`, which XML-escape every
 * text and attribute, so no caller-supplied value can close an element (no TwiML injection).
 */
import twilio from 'twilio';

/** True when `signature` is Twilio's for `url` and `params` (both as Twilio sent them). */
export function isValidTwilioSignature(authToken: string, signature: string, url: string, params: Record<string, string | string[]>): boolean {
  return twilio.validateRequest(authToken, signature, url, params);
}

/** `<Response><Dial><Sip>uri</Sip></Dial></Response>`: Twilio calls `uri` over SIP. */
export function dialSipTwiml(uri: string): string {
  const r = new twilio.twiml.VoiceResponse();
  r.dial().sip(uri);
  return r.toString();
}

/** `<Response><Reject reason="…"/></Response>`: the call is refused before it is answered (no charge). */
export function rejectTwiml(reason: 'rejected' | 'busy' = 'rejected'): string {
  const r = new twilio.twiml.VoiceResponse();
  r.reject({ reason });
  return r.toString();
}

/** `<Response/>`: a message webhook handled, nothing to reply. */
export function emptyMessagingTwiml(): string {
  return new twilio.twiml.MessagingResponse().toString();
}
