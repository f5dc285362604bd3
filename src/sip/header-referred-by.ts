/**
 * Referred-By (RFC 3892 §3), compact form `b`: who asked for a transfer. The transferee copies
 * it from the REFER into the INVITE it sends to the target (RFC 5589 §6).
 *
 *     Referred-By         = ("Referred-By" / "b") HCOLON referrer-uri
 *                           *( SEMI (referredby-id-param / generic-param) )
 *     referrer-uri        = ( name-addr / addr-spec )
 *     referredby-id-param = "cid" EQUAL sip-clean-msg-id
 *     sip-clean-msg-id    = LDQUOT dot-atom "@" (dot-atom / host) RDQUOT
 *
 *     Referred-By: <sip:referrer@referrer.example>;cid="20398823.2UWQFN309shb3@referrer.example"
 */
import { formatNameAddr, parseNameAddr } from './header-name-addr.ts';
import type { NameAddr } from './header-name-addr.ts';
import { paramValue } from './header-params.ts';
import { SipReferError, SipReferErrorCode } from './refer-errors.ts';

/** A parsed Referred-By. */
export interface ReferredBy {
  /** The referrer; `params` holds `cid` (quoted, as on the wire) and any generic-param. */
  nameAddr: NameAddr;
  /** The `cid` Content-ID of an attached token, unquoted, or null. */
  cid: string | null;
}

/** dot-atom "@" (dot-atom / host): no whitespace, quotes or brackets other than an IPv6 host's. */
const CLEAN_MSG_ID = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+@(?:[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+|\[[0-9A-Fa-f:.]+\])$/;

/**
 * @example parseReferredBy('<sips:transferor@atlanta.example>').nameAddr.uri.user // 'transferor'
 * @throws SipReferError `SIP_ERR_REFERRED_BY_INVALID` (sipStatus 400)
 */
export function parseReferredBy(value: string): ReferredBy {
  let nameAddr: NameAddr;
  try {
    nameAddr = parseNameAddr(value);
  } catch (err) {
    throw new SipReferError(SipReferErrorCode.REFERRED_BY_INVALID, `invalid Referred-By "${value}": ${(err as Error).message}`, { cause: err });
  }
  const raw = nameAddr.params.get('cid');
  let cid: string | null = null;
  if (raw !== undefined) {
    // §3: the value is a quoted sip-clean-msg-id.
    if (raw === null || raw.charCodeAt(0) !== 0x22) throw new SipReferError(SipReferErrorCode.REFERRED_BY_INVALID, `Referred-By cid must be a quoted msg-id in "${value}"`);
    cid = paramValue(nameAddr.params, 'cid');
    if (cid === null || !CLEAN_MSG_ID.test(cid)) throw new SipReferError(SipReferErrorCode.REFERRED_BY_INVALID, `Referred-By cid is not local@domain in "${value}"`);
  }
  return { nameAddr, cid };
}

/** Formats a Referred-By value (name-addr form; `cid` quoted when given). */
export function formatReferredBy(rb: { nameAddr: NameAddr; cid?: string | null }): string {
  const params = new Map(rb.nameAddr.params);
  if (rb.cid !== undefined && rb.cid !== null) params.set('cid', `"${rb.cid}"`);
  return formatNameAddr({ ...rb.nameAddr, params });
}
