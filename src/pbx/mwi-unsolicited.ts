/**
 * Unsolicited message-summary NOTIFYs: phones that never SUBSCRIBE (many desk phones are
 * configured this way) still light their lamp when the PBX sends them a NOTIFY out of any
 * dialog. Only devices whose `mwi_unsolicited` setting is on get them, at every registered
 * contact, at the address the REGISTER came from (NAT-safe, as for calls).
 *
 * There is no subscription behind such a NOTIFY, so it says `Subscription-State: terminated`
 * (RFC 6665 §8.2.3 requires the header; nothing is active); it is a request of its own (new
 * Call-ID, CSeq 1, From the mailbox account with a fresh tag).
 */
import type { Logger } from 'pino';
import type { SipEndpoint } from '../sip/endpoint.ts';
import { createRequest, randomCallId, randomTag } from '../sip/message-build.ts';
import { MESSAGE_SUMMARY_CONTENT_TYPE, MESSAGE_SUMMARY_EVENT, formatMessageSummary, type MessageCounts } from '../sip/message-summary.ts';
import { contactFor, type SipLegEnv } from './leg-sip.ts';
import type { LocationService } from './location-service.ts';
import { bindingTarget } from './registrar-bindings.ts';

export interface MwiUnsolicitedDeps {
  endpoint: Pick<SipEndpoint, 'request'>;
  location: Pick<LocationService, 'lookup'>;
  advertise: SipLegEnv['advertise'];
  domain: string;
  log: Logger;
}

export class MwiUnsolicited {
  /** NOTIFYs sent so far (for the status route). */
  sent = 0;

  constructor(private readonly deps: MwiUnsolicitedDeps) {}

  /**
   * Sends `counts` of the mailbox named `account` (a SIP user part) to every registered
   * contact of `username`.
   * @returns how many NOTIFYs went out (0 when the device is not registered).
   */
  notify(username: string, accountUser: string, counts: MessageCounts): number {
    const { domain } = this.deps;
    const account = `sip:${accountUser}@${domain}`;
    let n = 0;
    for (const b of this.deps.location.lookup(username)) {
      const target = bindingTarget(b);
      const req = createRequest({
        method: 'NOTIFY',
        uri: b.contactUri,
        from: `<${account}>;tag=${randomTag()}`,
        to: `<sip:${username}@${domain}>`,
        callId: randomCallId(),
        cseq: 1,
        contact: contactFor({ advertise: this.deps.advertise }, target),
        headers: [['Event', MESSAGE_SUMMARY_EVENT], ['Subscription-State', 'terminated']],
        body: formatMessageSummary(account, counts),
        contentType: MESSAGE_SUMMARY_CONTENT_TYPE,
      });
      try {
        this.deps.endpoint.request(req, target, {
          onResponse: (res) => { if (res.status >= 300) this.deps.log.info({ username, status: res.status }, 'MWI: unsolicited NOTIFY refused'); },
        });
        n++;
      } catch (err) {
        this.deps.log.warn({ err, username }, 'MWI: unsolicited NOTIFY not sent');
      }
    }
    this.sent += n;
    return n;
  }
}
