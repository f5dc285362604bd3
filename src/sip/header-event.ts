/**
 * Event (RFC 6665 §8.2.1, compact `o`) and Subscription-State (§8.2.3), as far as the refer
 * event package (RFC 3515 §2.4.4) needs them.
 *
 *     Event              = ( "Event" / "o" ) HCOLON event-type *( SEMI event-param )
 *     event-param        = generic-param / ( "id" EQUAL token )
 *     Subscription-State = "Subscription-State" HCOLON substate-value *( SEMI subexp-params )
 *     substate-value     = "active" / "pending" / "terminated" / extension-substate
 *     subexp-params      = ("reason" EQUAL event-reason-value) / ("expires" EQUAL delta-seconds)
 *                          / ("retry-after" EQUAL delta-seconds) / generic-param
 *
 *     Event: refer;id=93809824
 *     Subscription-State: active;expires=60
 *     Subscription-State: terminated;reason=noresource
 */
import { TOKEN_CHARS, allIn, scan, skipWs } from './header-chars.ts';
import { formatParams, parseParams } from './header-params.ts';
import type { SipParams } from './header-params.ts';
import { EXPIRES_MAX, parseUnsigned } from './header-scalar.ts';
import { SipReferError, SipReferErrorCode } from './refer-errors.ts';

/** A parsed Event value. */
export interface EventHeader {
  /** event-type as written (`refer`, `presence.winfo`); compare with `eventTypeIs`. */
  type: string;
  /** The `id` parameter (RFC 3515 §2.4.6: the CSeq number of the REFER), or null. */
  id: string | null;
  /** All parameters, `id` included, names lowercased. */
  params: SipParams;
}

/** event-type = event-package *( "." event-template ): token characters, `.` included. */
const EVENT_TYPE_CHARS = TOKEN_CHARS;

/** @throws SipReferError `SIP_ERR_EVENT_INVALID` (sipStatus 400) */
export function parseEvent(value: string): EventHeader {
  const start = skipWs(value, 0);
  const end = scan(EVENT_TYPE_CHARS, value, start);
  if (end === start) throw eventError(value, 'missing event-type');
  const params: SipParams = new Map();
  let i: number;
  try {
    i = skipWs(value, parseParams(value, end, params));
  } catch (err) {
    throw eventError(value, (err as Error).message, err);
  }
  if (i !== value.length) throw eventError(value, `unexpected "${value[i]}"`);
  const id = params.get('id');
  if (id === null || (id !== undefined && !allIn(TOKEN_CHARS, id))) throw eventError(value, 'id is not a token');
  return { type: value.slice(start, end), id: id ?? null, params };
}

/**
 * Package names match case-insensitively here: RFC 6665 registers them in lowercase and some
 * phones send `Refer`. Templates (`.winfo`) must match too.
 */
export function eventTypeIs(ev: EventHeader, type: string): boolean {
  return ev.type.toLowerCase() === type.toLowerCase();
}

/** `refer` or `refer;id=<n>`. */
export function formatEvent(type: string, id?: string | number | null): string {
  return id === undefined || id === null ? type : `${type};id=${id}`;
}

/** A parsed Subscription-State value. */
export interface SubscriptionState {
  /** Lowercased: `active`, `pending`, `terminated` or an extension state. */
  state: string;
  /** `reason` (lowercased, e.g. `noresource`, `timeout`, `rejected`), or null. */
  reason: string | null;
  /** `expires` in seconds, or null. */
  expires: number | null;
  /** `retry-after` in seconds, or null. */
  retryAfter: number | null;
  /** All parameters as on the wire, names lowercased. */
  params: SipParams;
}

/** @throws SipReferError `SIP_ERR_SUBSCRIPTION_STATE_INVALID` (sipStatus 400) */
export function parseSubscriptionState(value: string): SubscriptionState {
  const start = skipWs(value, 0);
  const end = scan(TOKEN_CHARS, value, start);
  if (end === start) throw stateError(value, 'missing substate-value');
  const params: SipParams = new Map();
  let i: number;
  try {
    i = skipWs(value, parseParams(value, end, params));
  } catch (err) {
    throw stateError(value, (err as Error).message, err);
  }
  if (i !== value.length) throw stateError(value, `unexpected "${value[i]}"`);
  const seconds = (name: string): number | null => {
    const v = params.get(name);
    if (v === undefined) return null;
    const n = v === null ? -1 : parseUnsigned(v, EXPIRES_MAX);
    if (n < 0) throw stateError(value, `${name} is not delta-seconds`);
    return n;
  };
  const reason = params.get('reason');
  if (reason === null || (reason !== undefined && !allIn(TOKEN_CHARS, reason))) throw stateError(value, 'reason is not a token');
  return {
    state: value.slice(start, end).toLowerCase(),
    reason: reason === undefined ? null : reason.toLowerCase(),
    expires: seconds('expires'),
    retryAfter: seconds('retry-after'),
    params,
  };
}

/** Formats `state[;reason=r][;expires=n][;retry-after=n]` plus any extra params. */
export function formatSubscriptionState(s: {
  state: string;
  reason?: string | null;
  expires?: number | null;
  retryAfter?: number | null;
  params?: SipParams;
}): string {
  let out = s.state;
  if (s.reason !== undefined && s.reason !== null) out += `;reason=${s.reason}`;
  if (s.expires !== undefined && s.expires !== null) out += `;expires=${s.expires}`;
  if (s.retryAfter !== undefined && s.retryAfter !== null) out += `;retry-after=${s.retryAfter}`;
  if (s.params !== undefined) {
    const extra = new Map(s.params);
    for (const known of ['reason', 'expires', 'retry-after']) extra.delete(known);
    out += formatParams(extra);
  }
  return out;
}

function eventError(value: string, why: string, cause?: unknown): SipReferError {
  return new SipReferError(SipReferErrorCode.EVENT_INVALID, `invalid Event "${value}": ${why}`, cause === undefined ? undefined : { cause });
}

function stateError(value: string, why: string, cause?: unknown): SipReferError {
  return new SipReferError(
    SipReferErrorCode.SUBSCRIPTION_STATE_INVALID,
    `invalid Subscription-State "${value}": ${why}`,
    cause === undefined ? undefined : { cause },
  );
}
