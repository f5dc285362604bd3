/**
 * The SIP URI Twilio dials (in `<Dial><Sip>`) when a call reaches one of our DIDs: the DID at
 * our domain, so the call arrives like any trunk call and the B2BUA applies the DID's routes
 * (time conditions, ring/forward/voicemail/reject, DND, registrations) in one place.
 *
 * Twilio copies `X-` headers of the URI into its INVITE: the CallSid (to join the CDR with
 * Twilio's callbacks) and the caller name Twilio looked up. Header values are percent-encoded
 * (RFC 3261 §19.1.1 `hvalue`), so nothing the caller controls can end the URI or add headers.
 *
 * @example
 * twilioDialUri({ didNumber: '+15551234567', domain: 'pbx.example.com', sipPort: 5060, callSid: 'CA…' })
 * // 'sip:+15551234567@pbx.example.com?X-Strowger-Call-Sid=CA…'
 */
export interface DialUriInput {
  didNumber: string;
  domain: string;
  sipPort: number;
  callSid: string;
  callerName?: string;
}

export function twilioDialUri(d: DialUriInput): string {
  const host = d.domain.includes(':') && !d.domain.startsWith('[') ? `[${d.domain}]` : d.domain;
  const port = d.sipPort === 5060 ? '' : `:${d.sipPort}`;
  const headers = [`X-Strowger-Call-Sid=${encodeURIComponent(d.callSid)}`];
  if (d.callerName) headers.push(`X-Strowger-Caller-Name=${encodeURIComponent(d.callerName)}`);
  return `sip:${encodeURIComponent(d.didNumber).replace(/%2B/g, '+')}@${host}${port}?${headers.join('&')}`;
}
