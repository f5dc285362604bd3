/**
 * The implicit subscription a REFER creates (RFC 3515 §2.4.4-§2.4.7 on RFC 6665), both sides:
 *
 * - as REFER recipient (a phone asked us to transfer): `ReferNotifier` is a pure state object
 *   that, told the progress of the request the REFER triggered, says which NOTIFYs to send;
 *   `referAcceptance` reads RFC 4488 `Refer-Sub: false` and gives the 202's headers.
 * - as REFER sender (we transfer a phone): `referRequestHeaders` builds the REFER's headers and
 *   `readReferNotify` reads the NOTIFYs that come back.
 *
 *     transferee (us)                           transferor
 *       <- REFER  Refer-To: <sip:carol@...>
 *       -> 202 Accepted
 *       -> NOTIFY Event: refer    Subscription-State: active;expires=60   SIP/2.0 100 Trying
 *       -> NOTIFY Event: refer    Subscription-State: active;expires=58   SIP/2.0 180 Ringing
 *       -> NOTIFY Event: refer    Subscription-State: terminated;reason=noresource   SIP/2.0 200 OK
 */
import type { Dialog } from './dialog.ts';
import type { SipMessage } from './message.ts';
import { eventTypeIs, formatEvent, formatSubscriptionState, parseEvent, parseSubscriptionState } from './header-event.ts';
import { SipReferError, SipReferErrorCode } from './refer-errors.ts';
import { SIPFRAG_CONTENT_TYPE, isSipfragContentType, parseSipfragStatus, sipfragOfStatus } from './sipfrag.ts';
import { reasonPhrase } from './message-reasons.ts';
import type { Clock } from './timers.ts';

/** Event package name of REFER subscriptions (RFC 3515 §2.4.4). */
export const REFER_EVENT = 'refer';
/** Option tag of RFC 4488 (`Supported: norefersub`). */
export const NOREFERSUB_OPTION_TAG = 'norefersub';
/** Subscription duration we grant when we are the REFER recipient (RFC 3515 leaves it to us). */
export const DEFAULT_REFER_EXPIRES = 60;

// ---- REFER recipient: accepting ---------------------------------------------------------------

/**
 * Whether the REFER asks for the implicit subscription: false only for `Refer-Sub: false`
 * (RFC 4488 §4). Values are case-insensitive; extension params after `;` are ignored.
 *
 * @throws SipReferError `SIP_ERR_REFER_SUB_INVALID` (400) for a value other than true/false,
 *   or two values that disagree.
 */
export function referSubscriptionWanted(refer: SipMessage): boolean {
  let wanted: boolean | null = null;
  for (const raw of refer.getHeaders('refer-sub')) {
    const semi = raw.indexOf(';');
    const v = (semi === -1 ? raw : raw.slice(0, semi)).trim().toLowerCase();
    if (v !== 'true' && v !== 'false') throw new SipReferError(SipReferErrorCode.REFER_SUB_INVALID, `invalid Refer-Sub "${raw}" (RFC 4488 §3: true / false)`);
    const w = v === 'true';
    if (wanted !== null && wanted !== w) throw new SipReferError(SipReferErrorCode.REFER_SUB_INVALID, 'Refer-Sub values disagree');
    wanted = w;
  }
  return wanted ?? true;
}

/** How we accept a REFER: whether to run the subscription and the headers of the 202. */
export interface ReferAcceptance {
  /** False: send no NOTIFY at all (RFC 4488 §4). */
  subscribe: boolean;
  /** Extra headers for the 202 Accepted: `Refer-Sub: false` when the subscription is suppressed. */
  headers: Array<[string, string]>;
}

/**
 * RFC 4488 §4: we honour `Refer-Sub: false`, and then must say so in the 2xx with
 * `Refer-Sub: false` (a REFER-Issuer that does not see it must expect NOTIFYs).
 *
 * @throws SipReferError as `referSubscriptionWanted`.
 */
export function referAcceptance(refer: SipMessage): ReferAcceptance {
  const subscribe = referSubscriptionWanted(refer);
  return { subscribe, headers: subscribe ? [] : [['Refer-Sub', 'false']] };
}

// ---- REFER recipient: notifying ---------------------------------------------------------------

/** One NOTIFY to send: pass the fields to `Dialog.createRequest('NOTIFY', ...)` or use `createReferNotify`. */
export interface ReferNotify {
  /** `Event` and `Subscription-State`, in that order. */
  headers: Array<[string, string]>;
  contentType: string;
  /** The sipfrag: `SIP/2.0 <status> <reason>\r\n`. */
  body: Buffer;
  status: number;
  reason: string;
  /** True when this NOTIFY terminates the subscription (nothing is sent after it). */
  final: boolean;
}

/** Options of `ReferNotifier`. */
export interface ReferNotifierOptions {
  /** CSeq number of the REFER: the `id` of the Event header (RFC 3515 §2.4.6). */
  referCseq: number;
  /**
   * Put `;id=<referCseq>` on Event. Required for the second and later REFERs of a dialog
   * (§2.4.6); for the first one it may be omitted, and is by default so that every phone
   * matches it. Default false.
   */
  withId?: boolean;
  /** Subscription duration in seconds (`Subscription-State: active;expires=`). Default 60. */
  expires?: number;
  /** False when the REFER suppressed the subscription (`referAcceptance(...).subscribe`): every method returns null. Default true. */
  subscribe?: boolean;
  /** Milliseconds clock for the remaining `expires`. */
  clock: Clock;
}

/**
 * Pure state of one refer subscription on the notifier side. It sends no messages and starts
 * no timers: each method returns the NOTIFY to send (or null: nothing to send), and `expiresAt`
 * tells the caller when to call `expire()`.
 *
 * Policy: the first NOTIFY (`start`, right after the 202, RFC 6665 §4.2.1.2 / RFC 3515 §2.4.4)
 * reports `100 Trying`; each provisional status after that is reported once (a second 180 is
 * not repeated); the first final status (>= 200) is reported with
 * `Subscription-State: terminated;reason=noresource` (RFC 3515 §2.4.7) and ends the subscription.
 *
 * @example
 *   const n = new ReferNotifier({ referCseq: refer.cseq.seq, clock: timers });
 *   send(n.start());                 // 100 Trying, active;expires=60
 *   send(n.progress(180));           // 180 Ringing
 *   send(n.progress(486));           // 486 Busy Here, terminated;reason=noresource
 */
export class ReferNotifier {
  readonly referCseq: number;
  readonly withId: boolean;
  readonly subscribe: boolean;
  #clock: Clock;
  #expiresAt: number;
  #started = false;
  #terminated: boolean;
  #lastStatus = 100;
  #lastReason = reasonPhrase(100);
  #reported = new Set<number>();

  constructor(o: ReferNotifierOptions) {
    this.referCseq = o.referCseq;
    this.withId = o.withId ?? false;
    this.subscribe = o.subscribe ?? true;
    this.#clock = o.clock;
    this.#expiresAt = o.clock.now() + (o.expires ?? DEFAULT_REFER_EXPIRES) * 1000;
    this.#terminated = !this.subscribe;
  }

  /** When the subscription runs out (clock ms); call `expire()` then if not terminated. */
  get expiresAt(): number {
    return this.#expiresAt;
  }
  /** True once the terminating NOTIFY was produced (or when there never was a subscription). */
  get terminated(): boolean {
    return this.#terminated;
  }
  /** The last status reported (100 before any progress). */
  get lastStatus(): number {
    return this.#lastStatus;
  }

  /** The initial NOTIFY, `100 Trying`; null if already started or there is no subscription. */
  start(): ReferNotify | null {
    if (this.#terminated || this.#started) return null;
    this.#started = true;
    this.#reported.add(100);
    return this.#notify(100, this.#lastReason, false);
  }

  /**
   * Progress of the triggered request (the status of its latest response, or a status we
   * synthesise, e.g. 503 when the target could not be reached, 487 when it was cancelled).
   * Returns the NOTIFY to send, or null when there is nothing new to report. A final status
   * before `start()` still produces the terminating NOTIFY (the subscription existed).
   */
  progress(status: number, reason?: string): ReferNotify | null {
    if (this.#terminated) return null;
    if (status >= 200) {
      this.#started = true;
      this.#terminated = true;
      return this.#notify(status, reason ?? reasonPhrase(status), true);
    }
    if (this.#reported.has(status)) return null;
    this.#started = true;
    this.#reported.add(status);
    return this.#notify(status, reason ?? reasonPhrase(status), false);
  }

  /**
   * The subscription ran out before a final status (RFC 6665 §4.2.2: the notifier terminates
   * it with `reason=timeout`); the body repeats the last status reported. Null if already over.
   */
  expire(): ReferNotify | null {
    if (this.#terminated) return null;
    this.#terminated = true;
    return this.#notify(this.#lastStatus, this.#lastReason, true, 'timeout');
  }

  /**
   * A SUBSCRIBE refreshing the subscription (RFC 3515 §2.4.4 allows it; RFC 6665 §4.2.1.2
   * answers with an immediate NOTIFY): new duration, the current status again. `Expires: 0`
   * unsubscribes (terminated;reason=timeout). Null when the subscription is over (answer 481).
   */
  refresh(expires: number): ReferNotify | null {
    if (this.#terminated) return null;
    if (expires <= 0) return this.expire();
    this.#expiresAt = this.#clock.now() + expires * 1000;
    this.#started = true;
    return this.#notify(this.#lastStatus, this.#lastReason, false);
  }

  #notify(status: number, reason: string, final: boolean, why = 'noresource'): ReferNotify {
    this.#lastStatus = status;
    this.#lastReason = reason;
    const remaining = Math.max(0, Math.ceil((this.#expiresAt - this.#clock.now()) / 1000));
    const state = final ? formatSubscriptionState({ state: 'terminated', reason: why }) : formatSubscriptionState({ state: 'active', expires: remaining });
    return {
      headers: [
        ['Event', formatEvent(REFER_EVENT, this.withId ? this.referCseq : null)],
        ['Subscription-State', state],
      ],
      contentType: SIPFRAG_CONTENT_TYPE,
      body: sipfragOfStatus(status, reason),
      status,
      reason,
      final,
    };
  }
}

/** A NOTIFY in the REFER's dialog carrying `n` (RFC 3515 §2.4.4: NOTIFYs go in the REFER's dialog). */
export function createReferNotify(dialog: Dialog, n: ReferNotify, contact?: string): SipMessage {
  return dialog.createRequest('NOTIFY', { contact, headers: n.headers, body: n.body, contentType: n.contentType });
}

// ---- REFER sender -----------------------------------------------------------------------------

/** Options of `referRequestHeaders`. */
export interface ReferRequestOptions {
  /** A formatted Refer-To value (`formatReferTo`). */
  referTo: string;
  /** A formatted Referred-By value (`formatReferredBy`), recommended by RFC 5589 §6. */
  referredBy?: string;
  /** Ask for no implicit subscription (RFC 4488 `Refer-Sub: false`). */
  noSubscription?: boolean;
}

/** Headers of a REFER we send, for `Dialog.createRequest('REFER', { headers })`. */
export function referRequestHeaders(o: ReferRequestOptions): Array<[string, string]> {
  const h: Array<[string, string]> = [['Refer-To', o.referTo]];
  if (o.referredBy !== undefined) h.push(['Referred-By', o.referredBy]);
  if (o.noSubscription === true) h.push(['Refer-Sub', 'false']);
  return h;
}

/** What a refer NOTIFY we received says. */
export interface ReferNotifyReport {
  /** The Event `id` as a number (the CSeq of the REFER it reports on), or null when absent. */
  id: number | null;
  /** Lowercased Subscription-State: `active`, `pending`, `terminated`... */
  state: string;
  /** Subscription-State `reason`, or null. */
  stateReason: string | null;
  /** Status of the triggered request, from the sipfrag. */
  status: number;
  reason: string;
  /** True when the transfer's outcome is known: a final status, or the subscription ended. */
  final: boolean;
}

/**
 * Reads a NOTIFY of the refer package. Returns null when its Event is another package (answer
 * 489 Bad Event, RFC 6665 §8.3.2).
 *
 * Match `id` against the REFER's CSeq; a NOTIFY without id answers the dialog's first REFER
 * (RFC 3515 §2.4.6).
 *
 * @throws SipReferError (400) when Event, Subscription-State (mandatory, RFC 6665 §8.2.3) or
 *   the sipfrag body is missing or malformed.
 */
export function readReferNotify(notify: SipMessage): ReferNotifyReport | null {
  const eventText = notify.getHeader('event');
  if (eventText === null) throw new SipReferError(SipReferErrorCode.EVENT_INVALID, 'NOTIFY without Event (RFC 6665 §8.2.1)');
  const event = parseEvent(eventText);
  if (!eventTypeIs(event, REFER_EVENT)) return null;
  let id: number | null = null;
  if (event.id !== null) {
    if (!/^\d{1,10}$/.test(event.id)) throw new SipReferError(SipReferErrorCode.EVENT_INVALID, `refer Event id "${event.id}" is not a CSeq number (RFC 3515 §2.4.6)`);
    id = Number(event.id);
  }
  const stateText = notify.getHeader('subscription-state');
  if (stateText === null) throw new SipReferError(SipReferErrorCode.SUBSCRIPTION_STATE_INVALID, 'NOTIFY without Subscription-State (RFC 6665 §8.2.3)');
  const sub = parseSubscriptionState(stateText);
  if (!isSipfragContentType(notify.contentType)) {
    throw new SipReferError(SipReferErrorCode.SIPFRAG_INVALID, `refer NOTIFY body is "${notify.contentType ?? 'none'}", not message/sipfrag (RFC 3515 §2.4.5)`);
  }
  const frag = parseSipfragStatus(notify.body);
  return {
    id,
    state: sub.state,
    stateReason: sub.reason,
    status: frag.status,
    reason: frag.reason,
    final: frag.status >= 200 || sub.state === 'terminated',
  };
}
