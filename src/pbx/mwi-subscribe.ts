/**
 * SUBSCRIBE `Event: message-summary` (RFC 3842 on RFC 6665 §4.2.1): a registered device asks
 * for the state of a mailbox it may watch.
 *
 * - New subscription: digest authentication as for REGISTER (401, `device-auth.ts`); the
 *   Request-URI user names the mailbox (RFC 3842 §4: the message account); a mailbox of
 *   another device → 403, an unknown one → 404. Expires: absent → the default, below the
 *   minimum → `423 Interval Too Brief` with `Min-Expires`, above the maximum → the maximum.
 *   200 OK (with our To tag, Contact and the granted Expires), then at once a NOTIFY with the
 *   counts (§4.2.1.2). `Expires: 0` is a fetch: one NOTIFY, `terminated` (§4.4.3).
 * - Refresh / unsubscribe (in the dialog): matched by dialog id, else 481 (§4.2.1.2); the
 *   dialog id (Call-ID, their tag and our random tag) stands for the authenticated SUBSCRIBE,
 *   as it does for a BYE. `Expires: 0` ends it with a final NOTIFY `terminated;reason=timeout`.
 */
import type { Logger } from 'pino';
import { Dialog, dialogKey } from '../sip/dialog.ts';
import type { IncomingRequest } from '../sip/endpoint.ts';
import type { EventHeader } from '../sip/header-event.ts';
import { randomTag } from '../sip/message-build.ts';
import { MESSAGE_SUMMARY_CONTENT_TYPE } from '../sip/message-summary.ts';
import type { DeviceAuthResult } from './device-auth.ts';
import { contactFor, type SipLegEnv } from './leg-sip.ts';
import type { MwiSubscriptions } from './mwi-subscriptions.ts';
import type { MwiMailboxes } from './mwi-mailboxes.ts';


export interface MwiExpiryPolicy {
  minExpires: number;
  maxExpires: number;
  /** When the SUBSCRIBE has no Expires (RFC 3842 §4: one hour). */
  defaultExpires: number;
}

/** The duration to grant (0: fetch or unsubscribe), or the 423 to send. */
export function subscriptionExpiry(requested: number | null, p: MwiExpiryPolicy): { ok: true; seconds: number } | { ok: false; minExpires: number } {
  const asked = requested ?? p.defaultExpires;
  if (asked === 0) return { ok: true, seconds: 0 };
  if (asked < p.minExpires) return { ok: false, minExpires: p.minExpires };
  return { ok: true, seconds: Math.min(asked, p.maxExpires) };
}

export interface MwiSubscribeDeps {
  authenticate(r: IncomingRequest): Promise<DeviceAuthResult>;
  subscriptions: MwiSubscriptions;
  mailboxes: Pick<MwiMailboxes, 'resolve'>;
  policy: MwiExpiryPolicy;
  domain: string;
  advertise: SipLegEnv['advertise'];
  log: Logger;
}

/** Whether an Accept header (absent: the package default, §4.1.2.1) allows our body type. */
function acceptsSummary(r: IncomingRequest): boolean {
  const accept = r.msg.getHeaders('accept');
  if (accept.length === 0) return true;
  const types = accept.join(',').split(',').map((t) => t.split(';')[0]!.trim().toLowerCase());
  return types.some((t) => t === MESSAGE_SUMMARY_CONTENT_TYPE || t === 'application/*' || t === '*/*');
}

export function createMwiSubscribeHandler(deps: MwiSubscribeDeps) {
  const { subscriptions, log } = deps;

  const tooBrief = (r: IncomingRequest, minExpires: number) => r.reply(423, 'Interval Too Brief', { headers: { 'Min-Expires': String(minExpires) } });

  const inDialog = (r: IncomingRequest) => {
    const msg = r.msg;
    const s = subscriptions.get(dialogKey(msg.callId, msg.toTag!, msg.fromTag ?? ''));
    if (!s) { r.reply(481, 'Subscription Does Not Exist'); return; }
    if (!s.dialog.acceptRemoteSeq(msg)) { r.reply(500, 'Out Of Order'); return; }
    const exp = subscriptionExpiry(msg.expires, deps.policy);
    if (!exp.ok) { tooBrief(r, exp.minExpires); return; }
    r.reply(200, 'OK', { headers: { Contact: s.contact, Expires: String(exp.seconds) } });
    if (exp.seconds === 0) { subscriptions.end(s, 'timeout'); return; }
    s.dialog.refreshTarget(msg);
    subscriptions.refresh(s, exp.seconds, r.tx.source);
  };

  return async function handleMwiSubscribe(r: IncomingRequest, event: EventHeader): Promise<void> {
    const msg = r.msg;
    if (msg.toTag !== null) { inDialog(r); return; }
    const user = msg.requestUri.user;
    if (!user) { r.reply(404, 'Not Found'); return; }
    const auth = await deps.authenticate(r);
    if (!auth.ok) {
      if (auth.failure) log.info({ ip: r.source.remoteAddress, user: auth.failure.username, reason: auth.failure.reason }, 'SUBSCRIBE authentication failed');
      return;
    }
    const box = await deps.mailboxes.resolve({ id: auth.deviceId, username: auth.username }, user);
    if (box === 'forbidden') { r.reply(403, 'Forbidden'); return; }
    if (box === null) { r.reply(404, 'Not Found'); return; }
    if (!acceptsSummary(r)) { r.reply(406, 'Not Acceptable', { headers: { Accept: MESSAGE_SUMMARY_CONTENT_TYPE } }); return; }
    const exp = subscriptionExpiry(msg.expires, deps.policy);
    if (!exp.ok) { tooBrief(r, exp.minExpires); return; }
    const contacts = msg.contacts;
    // RFC 6665 §4.1.2.1: a SUBSCRIBE carries the Contact our NOTIFYs go to.
    if (contacts === '*' || contacts.length === 0) { r.reply(400, 'Missing Contact'); return; }

    const toTag = randomTag();
    const target = r.tx.source;
    const contact = contactFor({ advertise: deps.advertise }, target);
    r.reply(200, 'OK', { toTag, headers: { Contact: contact, Expires: String(exp.seconds) } });
    const dialog = Dialog.asUas(msg, toTag);
    const s = subscriptions.add({
      key: dialog.key, deviceId: auth.deviceId, username: auth.username, mailbox: box.mailbox,
      account: `sip:${box.account}@${deps.domain}`, dialog, target, contact, eventId: event.id,
    }, exp.seconds, { notify: exp.seconds > 0 });
    log.info({ username: auth.username, mailbox: box.mailbox, expires: exp.seconds }, 'MWI subscription');
    // A fetch (§4.4.3): the state once, in a NOTIFY that also ends the subscription.
    if (exp.seconds === 0) subscriptions.end(s, 'timeout');
  };
}
