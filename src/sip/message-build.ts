/**
 * Building requests (RFC 3261 §8.1.1) and responses (§8.2.6) from scratch or from a request.
 */
import { randomBase64url, randomHex } from './random-pool.ts';
import { branchPrefix, ownsCallId } from './shard-identity.ts';
import type { SipReplyHeaders } from './errors.ts';
import { formatNameAddr } from './header-name-addr.ts';
import type { NameAddr } from './header-name-addr.ts';
import { requireHeaderKey } from './header-names.ts';
import { formatVia } from './header-via.ts';
import type { Via } from './header-via.ts';
import { SipMessage } from './message.ts';
import { reasonPhrase } from './message-reasons.ts';
import { formatUri } from './uri.ts';
import type { SipUri } from './uri.ts';

/** Extra headers: `[name, value]` pairs (repeatable, in order) or a record of name -> value(s). */
export type ExtraHeaders = ReadonlyArray<readonly [string, string]> | Readonly<Record<string, string | readonly string[]>>;

/** Options of `createRequest`. Structured values may be given parsed or as wire text. */
export interface CreateRequestOptions {
  method: string;
  uri: SipUri | string;
  from: NameAddr | string;
  to: NameAddr | string;
  callId: string;
  cseq: number;
  /** Via values, topmost first; usually one added by the transport layer (default none). */
  via?: ReadonlyArray<Via | string>;
  /** Default 70 (§8.1.1.6). */
  maxForwards?: number;
  contact?: NameAddr | string | ReadonlyArray<NameAddr | string>;
  /** Route set (§12.2.1.1), topmost first. */
  route?: ReadonlyArray<NameAddr | string>;
  headers?: ExtraHeaders;
  body?: Buffer | string;
  /** Required when there is a body (e.g. `application/sdp`). */
  contentType?: string;
}

/**
 * Builds a request with headers in the conventional order: Via, Max-Forwards, Route, To, From,
 * Call-ID, CSeq, Contact, extra headers, Content-Type (Content-Length is added on output).
 *
 * @example createRequest({ method: 'OPTIONS', uri: 'sip:bob@example.com', from: '<sip:a@example.com>;tag=1',
 *   to: '<sip:bob@example.com>', callId: 'abc', cseq: 1 })
 */
export function createRequest(o: CreateRequestOptions): SipMessage {
  const b = new HeaderBuilder();
  for (const v of o.via ?? []) b.add('Via', typeof v === 'string' ? v : formatVia(v));
  b.add('Max-Forwards', String(o.maxForwards ?? 70));
  for (const r of o.route ?? []) b.add('Route', nameAddrText(r));
  b.add('To', nameAddrText(o.to));
  b.add('From', nameAddrText(o.from));
  b.add('Call-ID', o.callId);
  b.add('CSeq', `${o.cseq} ${o.method}`);
  if (o.contact !== undefined) {
    const list = typeof o.contact === 'string' || !Array.isArray(o.contact) ? [o.contact as NameAddr | string] : o.contact;
    for (const c of list) b.add('Contact', nameAddrText(c));
  }
  b.addAll(o.headers);
  const body = toBody(o.body);
  if (o.contentType !== undefined) b.add('Content-Type', o.contentType);
  const uri = typeof o.uri === 'string' ? o.uri : formatUri(o.uri);
  return new SipMessage(true, o.method, uri, 0, '', 'SIP/2.0', b.keys, b.names, b.values, body);
}

/** Options of `createResponse`. */
export interface CreateResponseOptions {
  /** To tag to add when the request has none and status > 100 (default: a random tag). */
  toTag?: string;
  headers?: ExtraHeaders;
  body?: Buffer | string;
  contentType?: string;
}

/** Methods whose 101-299 responses establish a dialog, so Record-Route is copied (§12.1.1). */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

/**
 * Builds a response to `req` per §8.2.6.2: Via (all, in order), From, To, Call-ID and CSeq are
 * copied as received; a To tag is added when status > 100 and the request had none;
 * Record-Route is copied for dialog-creating responses (§12.1.1); Timestamp for 100 (§8.2.6.1).
 *
 * @example createResponse(invite, 180, undefined, { toTag: leg.localTag })
 */
export function createResponse(req: SipMessage, status: number, reason?: string, o: CreateResponseOptions = {}): SipMessage {
  const b = new HeaderBuilder();
  for (let i = 0; i < req._keys.length; i++) if (req._keys[i] === 'via') b.add('Via', req._values[i]);
  const from = req.getHeader('from');
  if (from !== null) b.add('From', from);
  const to = req.getHeader('to');
  if (to !== null) b.add('To', status > 100 && req.toTag === null ? `${to};tag=${o.toTag ?? randomTag()}` : to);
  const callId = req.getHeader('call-id');
  if (callId !== null) b.add('Call-ID', callId);
  const cseq = req.getHeader('cseq');
  if (cseq !== null) b.add('CSeq', cseq);
  if (status > 100 && status < 300 && DIALOG_CREATING.has(req.method)) {
    for (let i = 0; i < req._keys.length; i++) if (req._keys[i] === 'record-route') b.add('Record-Route', req._values[i]);
  }
  if (status === 100) {
    const ts = req.getHeader('timestamp');
    if (ts !== null) b.add('Timestamp', ts);
  }
  b.addAll(o.headers);
  if (o.contentType !== undefined) b.add('Content-Type', o.contentType);
  return new SipMessage(false, '', '', status, reason ?? reasonPhrase(status), 'SIP/2.0', b.keys, b.names, b.values, toBody(o.body));
}

/**
 * Builds a response from the headers salvaged out of an unparseable request (a
 * `SipParseError`'s `replyHeaders`), typically the 400 of §16.3 / RFC 4475. Returns null when
 * there is no Via to send it to.
 */
export function createResponseFromReplyHeaders(h: SipReplyHeaders, status: number, reason?: string, toTag?: string): SipMessage | null {
  if (h.via.length === 0) return null;
  const b = new HeaderBuilder();
  for (const v of h.via) b.add('Via', v);
  if (h.from !== null) b.add('From', h.from);
  if (h.to !== null) b.add('To', status > 100 && !/;\s*tag\s*=/i.test(h.to) ? `${h.to};tag=${toTag ?? randomTag()}` : h.to);
  if (h.callId !== null) b.add('Call-ID', h.callId);
  if (h.cseq !== null) b.add('CSeq', h.cseq);
  return new SipMessage(false, '', '', status, reason ?? reasonPhrase(status), 'SIP/2.0', b.keys, b.names, b.values);
}

/** A random tag (§19.3: at least 32 bits of randomness). */
export function randomTag(): string {
  return randomHex(6);
}

/** A new RFC 3261 branch: magic cookie + randomness (§8.1.1.7). */
export function randomBranch(): string {
  return branchPrefix() + randomBase64url(9);
}

/**
 * A new Call-ID (§8.1.1.4), optionally `@host`. With call shards, one that hashes to this
 * thread's shard (`shard-identity.ts`): drawn again until it does, N draws on average.
 */
export function randomCallId(host?: string): string {
  for (;;) {
    const id = randomHex(12);
    const full = host === undefined ? id : `${id}@${host}`;
    if (ownsCallId(full)) return full;
  }
}

class HeaderBuilder {
  keys: string[] = [];
  names: string[] = [];
  values: string[] = [];

  add(name: string, value: string): void {
    this.keys.push(requireHeaderKey(name));
    this.names.push(name);
    this.values.push(value);
  }

  addAll(headers: ExtraHeaders | undefined): void {
    if (headers === undefined) return;
    if (Array.isArray(headers)) {
      for (const [name, value] of headers as ReadonlyArray<readonly [string, string]>) this.add(name, value);
      return;
    }
    // for-in, not Object.entries: no array of pairs per response (records here are plain literals).
    const record = headers as Record<string, string | readonly string[]>;
    for (const name in record) {
      const value = record[name]!;
      if (typeof value === 'string') this.add(name, value);
      else for (const v of value) this.add(name, v);
    }
  }
}

function nameAddrText(v: NameAddr | string): string {
  return typeof v === 'string' ? v : formatNameAddr(v);
}

/** Shared by every message without a body: a zero-length Buffer has nothing to write into. */
const NO_BODY = Buffer.alloc(0);

function toBody(body: Buffer | string | undefined): Buffer {
  if (body === undefined) return NO_BODY;
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}
