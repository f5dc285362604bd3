/**
 * Active message-summary subscriptions (RFC 6665 notifier side, RFC 3842 package), held in
 * memory with their dialog state: each owns its dialog (our CSeq for in-dialog NOTIFYs, the
 * route set, the subscriber's Contact as remote target), the address its SUBSCRIBE came
 * from, and an expiry timer (injected `Timers`, so tests drive time).
 *
 * NOTIFYs of one subscription go one at a time (RFC 6665 §4.2.2 keeps them in CSeq order at
 * the subscriber): a change while one is in flight marks the subscription dirty and a single
 * NOTIFY with the latest counts follows the answer. A NOTIFY answered 481 (RFC 6665 §4.2.2:
 * the subscription is gone at the subscriber) or 408 (nobody answers) ends the subscription.
 *
 * Subscriptions do not survive a restart: phones refresh well within the granted expiry, and
 * a refresh that meets no dialog gets 481 and makes the phone subscribe anew (§4.1.2.2).
 */
import type { Logger } from 'pino';
import type { Dialog } from '../sip/dialog.ts';
import type { SipEndpoint } from '../sip/endpoint.ts';
import { formatEvent, formatSubscriptionState } from '../sip/header-event.ts';
import type { SipMessage } from '../sip/message.ts';
import { MESSAGE_SUMMARY_CONTENT_TYPE, MESSAGE_SUMMARY_EVENT, formatMessageSummary, type MessageCounts } from '../sip/message-summary.ts';
import type { TimerHandle, Timers } from '../sip/timers.ts';
import type { SendTarget } from '../sip/transport-types.ts';

export interface MwiSubscription {
  /** Dialog key (Call-ID, our tag, their tag). */
  readonly key: string;
  readonly deviceId: number;
  readonly username: string;
  readonly mailbox: string;
  /** `Message-Account` of the NOTIFY bodies: `sip:<mailbox>@<domain>`. */
  readonly account: string;
  readonly dialog: Dialog;
  /** Where in-dialog requests go: the address the SUBSCRIBE came from (NAT-safe). */
  target: SendTarget;
  /** Our Contact in NOTIFYs (RFC 6665 §4.2.2: NOTIFY carries one). */
  readonly contact: string;
  /** `id` of the subscriber's Event header, echoed in our NOTIFYs (§8.2.1). */
  readonly eventId: string | null;
  readonly createdAt: number;
  expiresAt: number;
  /** NOTIFYs sent so far. */
  notifies: number;
  lastCounts: MessageCounts | null;
  timer: TimerHandle | undefined;
  inFlight: boolean;
  dirty: boolean;
  ended: boolean;
}

export type NewMwiSubscription = Pick<MwiSubscription, 'key' | 'deviceId' | 'username' | 'mailbox' | 'account' | 'dialog' | 'target' | 'contact' | 'eventId'>;

/** Why a subscription ended: the `reason` of the final NOTIFY (RFC 6665 §4.2.2), or the NOTIFY's failure. */
export type MwiEndReason = 'timeout' | 'noresource' | 'notify_failed';

export interface MwiSubscriptionsDeps {
  endpoint: Pick<SipEndpoint, 'request'>;
  timers: Timers;
  /** Current counts of a mailbox (read at send time, so a NOTIFY never carries stale counts). */
  counts(mailbox: string): Promise<MessageCounts>;
  log: Logger;
}

export class MwiSubscriptions {
  private readonly byKey = new Map<string, MwiSubscription>();

  constructor(private readonly deps: MwiSubscriptionsDeps) {}

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): MwiSubscription | undefined {
    return this.byKey.get(key);
  }

  all(): MwiSubscription[] {
    return [...this.byKey.values()];
  }

  ofMailbox(mailbox: string): MwiSubscription[] {
    return this.all().filter((s) => s.mailbox === mailbox);
  }

  /**
   * Starts a subscription of `seconds` and sends its first NOTIFY (§4.2.1.2: right after the
   * 200) unless `notify` is false (a fetch, which the caller ends at once).
   */
  add(n: NewMwiSubscription, seconds: number, o: { notify?: boolean } = {}): MwiSubscription {
    const now = this.deps.timers.now();
    const s: MwiSubscription = {
      ...n, createdAt: now, expiresAt: now + seconds * 1000, notifies: 0, lastCounts: null,
      timer: undefined, inFlight: false, dirty: false, ended: false,
    };
    this.byKey.set(s.key, s);
    this.arm(s);
    if (o.notify !== false) this.notify(s);
    return s;
  }

  /** A refresh (§4.2.1.2): new expiry and target, and a NOTIFY with the current state. */
  refresh(s: MwiSubscription, seconds: number, target: SendTarget): void {
    s.expiresAt = this.deps.timers.now() + seconds * 1000;
    s.target = target;
    this.arm(s);
    this.notify(s);
  }

  /** Sends the current state to `s` (once more after the NOTIFY in flight, if any). */
  notify(s: MwiSubscription): void {
    if (s.ended) return;
    if (s.inFlight) { s.dirty = true; return; }
    s.inFlight = true;
    s.dirty = false;
    void this.deps.counts(s.mailbox).then(
      (counts) => this.send(s, counts, null),
      (err) => { s.inFlight = false; this.deps.log.error({ err, mailbox: s.mailbox }, 'MWI: counts not read, NOTIFY not sent'); },
    );
  }

  /**
   * Ends `s` with a final NOTIFY (`terminated;reason=…`, §4.2.2) unless `reason` is
   * `notify_failed` (the subscriber is gone: nothing to tell).
   */
  end(s: MwiSubscription, reason: MwiEndReason): void {
    if (s.ended) return;
    s.ended = true;
    if (s.timer) this.deps.timers.clearTimeout(s.timer);
    s.timer = undefined;
    this.byKey.delete(s.key);
    this.deps.log.info({ username: s.username, mailbox: s.mailbox, reason }, 'MWI subscription ended');
    if (reason === 'notify_failed') return;
    void this.deps.counts(s.mailbox).catch(() => s.lastCounts ?? { new: 0, old: 0 }).then((counts) => this.send(s, counts, reason));
  }

  /** Drops every subscription without NOTIFYs (shutdown: phones re-subscribe to the next node). */
  close(): void {
    for (const s of this.byKey.values()) {
      s.ended = true;
      if (s.timer) this.deps.timers.clearTimeout(s.timer);
    }
    this.byKey.clear();
  }

  private arm(s: MwiSubscription): void {
    if (s.timer) this.deps.timers.clearTimeout(s.timer);
    s.timer = this.deps.timers.setTimeout(() => { s.timer = undefined; this.end(s, 'timeout'); }, Math.max(0, s.expiresAt - this.deps.timers.now()));
  }

  private send(s: MwiSubscription, counts: MessageCounts, terminated: MwiEndReason | null): void {
    if (terminated === null && s.ended) return;
    const remaining = Math.max(0, Math.round((s.expiresAt - this.deps.timers.now()) / 1000));
    const state = terminated === null ? formatSubscriptionState({ state: 'active', expires: remaining }) : formatSubscriptionState({ state: 'terminated', reason: terminated });
    const req = s.dialog.createRequest('NOTIFY', {
      contact: s.contact,
      headers: [['Event', formatEvent(MESSAGE_SUMMARY_EVENT, s.eventId)], ['Subscription-State', state]],
      body: formatMessageSummary(s.account, counts),
      contentType: MESSAGE_SUMMARY_CONTENT_TYPE,
    });
    s.notifies++;
    s.lastCounts = counts;
    try {
      this.deps.endpoint.request(req, s.target, { onResponse: (res) => this.answered(s, res) });
    } catch (err) {
      s.inFlight = false;
      this.deps.log.warn({ err, username: s.username }, 'MWI: NOTIFY not sent');
    }
  }

  private answered(s: MwiSubscription, res: SipMessage): void {
    if (res.status < 200) return;
    s.inFlight = false;
    if (res.status === 481 || res.status === 408) { this.end(s, 'notify_failed'); return; }
    if (res.status >= 300) this.deps.log.info({ username: s.username, status: res.status }, 'MWI: NOTIFY refused');
    if (s.dirty) this.notify(s);
  }
}
