/**
 * The SIP message model (RFC 3261 §7): one class for requests and responses.
 *
 * Headers are stored as parsed by `parseMessage`: one entry per header line, keyed by the
 * lowercased full name (`v:` -> `via`), value as on the wire after unfolding. Structured views
 * (`via`, `from`, `cseq`...) are parsed on first access and cached; any mutation clears the
 * caches and drops the original bytes, so `toBuffer()` re-serializes only when needed.
 *
 * Accessors of mandatory headers (`from`, `to`, `callId`, `cseq`) and of malformed headers throw
 * `SipParseError`; run `validateRequest` first on untrusted input and they will not.
 *
 * @example
 *   const msg = parseMessage(datagram);
 *   if (msg.isRequest && msg.method === 'REGISTER') lookup(msg.to.uri, msg.via[0].branch);
 *   socket.send(msg.toBuffer()); // the original bytes if nothing changed
 */
import { SipParseError, SipParseErrorCode } from './errors.ts';
import type { SipReplyHeaders } from './errors.ts';
import { splitList } from './header-chars.ts';
import { formatNameAddr, parseNameAddr } from './header-name-addr.ts';
import type { NameAddr } from './header-name-addr.ts';
import { isListHeader, requireHeaderKey } from './header-names.ts';
import { parseCSeq, parseExpires, parseMaxForwards } from './header-scalar.ts';
import type { CSeq } from './header-scalar.ts';
import { formatVia, parseVia } from './header-via.ts';
import type { Via } from './header-via.ts';
import { serialize } from './serialize.ts';
import { formatUri, parseUri } from './uri.ts';
import type { SipUri } from './uri.ts';

export { Via, formatVia, parseVia } from './header-via.ts';
export { formatNameAddr, parseNameAddr } from './header-name-addr.ts';
export type { NameAddr } from './header-name-addr.ts';
export { formatCSeq, parseCSeq } from './header-scalar.ts';
export type { CSeq } from './header-scalar.ts';
export { formatUri, parseUri, unescapeUri, uriEquals } from './uri.ts';
export type { SipUri } from './uri.ts';
export { formatParams, paramValue, parseParams } from './header-params.ts';
export type { SipParams } from './header-params.ts';

const EMPTY = Buffer.alloc(0);

/** Call-ID = word [ "@" word ]: at least one visible character, no whitespace or CTLs (§25.1). */
function isWord(v: string): boolean {
  if (v.length === 0) return false;
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) <= 0x20 || v.charCodeAt(i) === 0x7f) return false;
  return true;
}

/** Options of `addHeader`. */
export interface AddHeaderOptions {
  /** Insert above the existing headers of that name (a new top Via, Record-Route...). */
  first?: boolean;
}

export class SipMessage {
  /** @internal header keys (lowercased full names), one per header line; use the methods. */
  _keys: string[];
  /** @internal names as written, for unknown headers' spelling on output. */
  _names: string[];
  /** @internal values, unfolded and trimmed. */
  _values: string[];

  #isRequest: boolean;
  #method: string;
  #requestUriText: string;
  #status: number;
  #reason: string;
  #version: string;
  /** null: still a range of `#src` (materialised on first access). */
  #body: Buffer | null;
  #raw: Buffer | null;
  /** The received datagram, when `raw`/`body` are still ranges of it (see `_setSource`). */
  #src: Buffer | null = null;
  #rawStart = 0;
  #bodyStart = 0;
  #rawEnd = 0;

  #requestUri: SipUri | undefined = undefined;
  #via: Via[] | undefined = undefined;
  #from: NameAddr | undefined = undefined;
  #to: NameAddr | undefined = undefined;
  #cseq: CSeq | undefined = undefined;
  #contacts: NameAddr[] | '*' | undefined = undefined;

  /**
   * Low-level constructor used by the parser and builders; prefer `parseMessage`,
   * `createRequest` and `createResponse`. For a response `method`/`requestUri` are '' and for a
   * request `status` is 0 and `reason` ''.
   */
  constructor(
    isRequest: boolean,
    method: string,
    requestUri: string,
    status: number,
    reason: string,
    version: string,
    keys: string[],
    names: string[],
    values: string[],
    body: Buffer = EMPTY,
    raw: Buffer | null = null,
  ) {
    this.#isRequest = isRequest;
    this.#method = method;
    this.#requestUriText = requestUri;
    this.#status = status;
    this.#reason = reason;
    this.#version = version;
    this._keys = keys;
    this._names = names;
    this._values = values;
    this.#body = body;
    this.#raw = raw;
  }

  // ---- start line -------------------------------------------------------------------------

  get isRequest(): boolean {
    return this.#isRequest;
  }
  /** Request method, case-sensitive (§7.1). '' for responses: use `cseq.method`. */
  get method(): string {
    return this.#method;
  }
  /** `SIP/2.0` as received (validateRequest answers 505 to anything else). */
  get version(): string {
    return this.#version;
  }
  /** Response status code; 0 for requests. */
  get status(): number {
    return this.#status;
  }
  set status(v: number) {
    this.#status = v;
    this.#changed();
  }
  /** Reason phrase; '' for requests. */
  get reason(): string {
    return this.#reason;
  }
  set reason(v: string) {
    this.#reason = v;
    this.#changed();
  }
  /** The Request-URI as on the wire ('' for responses). */
  get requestUriText(): string {
    return this.#requestUriText;
  }
  /** The parsed Request-URI (cached). @throws SipParseError for a response or a bad URI */
  get requestUri(): SipUri {
    if (this.#requestUri === undefined) {
      if (!this.#isRequest) throw this.#error(new SipParseError(SipParseErrorCode.URI, 'a response has no Request-URI'));
      this.#requestUri = this.#guard(() => parseUri(this.#requestUriText));
    }
    return this.#requestUri;
  }
  /** Rewrites the Request-URI (proxy/B2BUA retargeting, §16.5). */
  set requestUri(uri: SipUri | string) {
    this.#requestUriText = typeof uri === 'string' ? uri : formatUri(uri);
    this.#changed();
    this.#requestUri = typeof uri === 'string' ? undefined : uri;
  }

  // ---- structured headers (parsed on first access, cached) ----------------------------------

  /** All Via values, topmost first. [] when there is none. */
  get via(): Via[] {
    if (this.#via === undefined) this.#via = this.#guard(() => this.getHeaders('via').map(parseVia));
    return this.#via;
  }
  /** The topmost Via, or null. */
  get topVia(): Via | null {
    const v = this.via;
    return v.length === 0 ? null : v[0];
  }
  /** @throws SipParseError when missing or malformed */
  get from(): NameAddr {
    if (this.#from === undefined) this.#from = this.#guard(() => parseNameAddr(this.#required('from')));
    return this.#from;
  }
  /** @throws SipParseError when missing or malformed */
  get to(): NameAddr {
    if (this.#to === undefined) this.#to = this.#guard(() => parseNameAddr(this.#required('to')));
    return this.#to;
  }
  /** From tag (dialog id part, §12), or null. */
  get fromTag(): string | null {
    return this.from.params.get('tag') ?? null;
  }
  /** To tag, or null (out-of-dialog request, or response without tag). */
  get toTag(): string | null {
    return this.to.params.get('tag') ?? null;
  }
  /** @throws SipParseError when missing or empty */
  get callId(): string {
    const v = this.#required('call-id');
    if (!isWord(v)) throw this.#error(new SipParseError(SipParseErrorCode.CALL_ID, `invalid Call-ID "${v}"`));
    return v;
  }
  /** @throws SipParseError when missing, malformed or seq >= 2**31 */
  get cseq(): CSeq {
    if (this.#cseq === undefined) this.#cseq = this.#guard(() => parseCSeq(this.#required('cseq')));
    return this.#cseq;
  }
  /** Max-Forwards, or null when absent. @throws SipParseError outside 0..255 */
  get maxForwards(): number | null {
    const v = this.#first('max-forwards');
    return v === null ? null : this.#guard(() => parseMaxForwards(v));
  }
  /** Expires header (delta-seconds), or null when absent. @throws SipParseError outside 0..2**32-1 */
  get expires(): number | null {
    const v = this.#first('expires');
    return v === null ? null : this.#guard(() => parseExpires(v));
  }
  /** Contact values, `'*'` for a REGISTER wildcard (§10.2.2), [] when absent. */
  get contacts(): NameAddr[] | '*' {
    if (this.#contacts === undefined) {
      const values = this.getHeaders('contact');
      this.#contacts = values.length === 1 && values[0] === '*' ? '*' : this.#guard(() => values.map(parseNameAddr));
    }
    return this.#contacts;
  }
  /** Record-Route values in order (§12.1.1), [] when absent. */
  get recordRoute(): NameAddr[] {
    return this.#guard(() => this.getHeaders('record-route').map(parseNameAddr));
  }
  /** Route values in order (§16.4), [] when absent. */
  get route(): NameAddr[] {
    return this.#guard(() => this.getHeaders('route').map(parseNameAddr));
  }
  /** Content-Type value as written (e.g. `application/sdp`), or null. */
  get contentType(): string | null {
    return this.getHeader('content-type');
  }
  /** Length of the body; serialization always writes this as Content-Length. */
  get contentLength(): number {
    return this.#body === null ? this.#rawEnd - this.#bodyStart : this.#body.length;
  }

  // ---- body ---------------------------------------------------------------------------------

  /** The body (a view into the received datagram; do not modify it in place). */
  get body(): Buffer {
    if (this.#body === null) {
      this.#body = this.#rawEnd > this.#bodyStart ? (this.#src as Buffer).subarray(this.#bodyStart, this.#rawEnd) : EMPTY;
    }
    return this.#body;
  }
  set body(b: Buffer) {
    this.setBody(b);
  }
  /** Replaces the body, and the Content-Type when given (removed when the body is empty). */
  setBody(body: Buffer | string, contentType?: string): void {
    this.#body = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.#src = null;
    if (contentType !== undefined) this.setHeader('content-type', contentType);
    else if (this.#body.length === 0) this.removeHeader('content-type');
    this.#changed();
  }

  // ---- raw header access --------------------------------------------------------------------

  /** First value of a header (list headers: first element), or null. Names are case-insensitive and may be compact. */
  getHeader(name: string): string | null {
    const key = requireHeaderKey(name);
    const keys = this._keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== key) continue;
      const v = this._values[i];
      if (!isListHeader(key) || v.indexOf(',') === -1) return v;
      const parts: string[] = [];
      splitList(v, parts);
      return parts[0];
    }
    return null;
  }

  /** All values of a header in order; list headers are split on commas outside quotes and `<>`. */
  getHeaders(name: string): string[] {
    const key = requireHeaderKey(name);
    const out: string[] = [];
    const list = isListHeader(key);
    const keys = this._keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== key) continue;
      const v = this._values[i];
      if (list && v.indexOf(',') !== -1) splitList(v, out);
      else out.push(v);
    }
    return out;
  }

  /**
   * Whether the header has more than one value, counted as `getHeaders` counts them (lines, and
   * list values split on commas) but without building the list: validation asks this of every
   * single-value header of every request.
   */
  hasSeveralValues(name: string): boolean {
    const key = requireHeaderKey(name);
    const list = isListHeader(key);
    const keys = this._keys;
    let n = 0;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== key) continue;
      const v = this._values[i];
      if (list && v.indexOf(',') !== -1) {
        const parts: string[] = [];
        splitList(v, parts);
        n += parts.length;
      } else n++;
      if (n > 1) return true;
    }
    return false;
  }

  hasHeader(name: string): boolean {
    return this._keys.indexOf(requireHeaderKey(name)) !== -1;
  }

  /** Replaces every line of the header with `value` (one line per array element), keeping its position. */
  setHeader(name: string, value: string | string[]): void {
    const key = requireHeaderKey(name);
    const values = typeof value === 'string' ? [value] : value;
    let at = this._keys.indexOf(key);
    this.#removeAll(key);
    if (at === -1 || at > this._keys.length) at = this._keys.length;
    for (let j = 0; j < values.length; j++) this.#insert(at + j, key, name, values[j]);
    this.#changed();
  }

  /** Adds one header line, after the existing ones of that name (or above them with `first`), else at the end. */
  addHeader(name: string, value: string, options: AddHeaderOptions = {}): void {
    const key = requireHeaderKey(name);
    let at: number;
    if (options.first) {
      at = this._keys.indexOf(key);
      if (at === -1) at = key === 'via' ? 0 : this._keys.length;
    } else {
      at = this._keys.lastIndexOf(key);
      at = at === -1 ? this._keys.length : at + 1;
    }
    this.#insert(at, key, name, value);
    this.#changed();
  }

  /** Removes every line of the header; returns how many lines were removed. */
  removeHeader(name: string): number {
    const n = this.#removeAll(requireHeaderKey(name));
    if (n > 0) this.#changed();
    return n;
  }

  /**
   * Removes the first value of a header, splitting a combined list line if needed; returns it,
   * or null. E.g. a UAC drops the top Via of a response, a proxy pops its own Route (§16.4).
   */
  removeFirstHeaderValue(name: string): string | null {
    const key = requireHeaderKey(name);
    const i = this._keys.indexOf(key);
    if (i === -1) return null;
    const v = this._values[i];
    const parts: string[] = [];
    if (isListHeader(key) && v.indexOf(',') !== -1) splitList(v, parts);
    if (parts.length > 1) this._values[i] = parts.slice(1).join(', ');
    else {
      this._keys.splice(i, 1);
      this._names.splice(i, 1);
      this._values.splice(i, 1);
    }
    this.#changed();
    return parts.length > 1 ? parts[0] : v;
  }

  /** Header lines as [key (lowercased full name), value], in order. */
  headerEntries(): Array<[key: string, value: string]> {
    return this._keys.map((k, i) => [k, this._values[i]]);
  }

  // ---- structured setters ---------------------------------------------------------------------

  /** Writes a Via list (e.g. after adding `received`/`rport` to the top one, §18.2.1). */
  setVia(vias: Via[]): void {
    this.setHeader('Via', vias.map(formatVia));
  }
  setFrom(na: NameAddr): void {
    this.setHeader('From', formatNameAddr(na));
  }
  setTo(na: NameAddr): void {
    this.setHeader('To', formatNameAddr(na));
  }

  // ---- output -------------------------------------------------------------------------------

  /** The received bytes (exactly one message, trailing datagram octets excluded), or null once modified. */
  get raw(): Buffer | null {
    if (this.#raw === null && this.#src !== null) this.#raw = this.#src.subarray(this.#rawStart, this.#rawEnd);
    return this.#raw;
  }
  /** The original bytes when unmodified, else a fresh serialization. */
  toBuffer(): Buffer {
    return this.raw ?? serialize(this);
  }

  /**
   * @internal Used by the parser: `raw` is `src[rawStart, rawEnd)` and `body` is
   * `src[bodyStart, rawEnd)`; views are created only if asked for (saves two allocations per
   * message on the routing path).
   */
  _setSource(src: Buffer, rawStart: number, bodyStart: number, rawEnd: number): void {
    this.#src = src;
    this.#rawStart = rawStart;
    this.#bodyStart = bodyStart;
    this.#rawEnd = rawEnd;
    this.#body = null;
    this.#raw = null;
  }
  toString(): string {
    return this.toBuffer().toString('utf8');
  }

  /** A deep copy of headers and start line; shares the body buffer and the raw bytes. */
  clone(): SipMessage {
    const copy = new SipMessage(
      this.#isRequest,
      this.#method,
      this.#requestUriText,
      this.#status,
      this.#reason,
      this.#version,
      this._keys.slice(),
      this._names.slice(),
      this._values.slice(),
      this.body,
      this.raw,
    );
    return copy;
  }

  /** Raw values a 400 needs (§8.2.6.1), for errors raised after parsing. */
  replyHeaders(): SipReplyHeaders {
    return {
      via: this.getHeaders('via'),
      from: this.getHeader('from'),
      to: this.getHeader('to'),
      callId: this.getHeader('call-id'),
      cseq: this.getHeader('cseq'),
    };
  }

  // ---- internals ----------------------------------------------------------------------------

  #required(key: string): string {
    const v = this.#first(key);
    if (v === null) throw this.#error(new SipParseError(SipParseErrorCode.MISSING_HEADER, `missing ${key} header`));
    return v;
  }

  /** First value for an internal key (no name normalisation): the routing fast path. */
  #first(key: string): string | null {
    const i = this._keys.indexOf(key);
    if (i === -1) return null;
    const v = this._values[i];
    if (v.indexOf(',') === -1 || !isListHeader(key)) return v;
    const parts: string[] = [];
    splitList(v, parts);
    return parts[0];
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof SipParseError && !err.isRequest && this.#isRequest) throw this.#error(err);
      throw err;
    }
  }

  #error(err: SipParseError): SipParseError {
    return this.#isRequest ? err.withContext(true, this.replyHeaders()) : err;
  }

  #insert(at: number, key: string, name: string, value: string): void {
    this._keys.splice(at, 0, key);
    this._names.splice(at, 0, name);
    this._values.splice(at, 0, value);
  }

  #removeAll(key: string): number {
    let n = 0;
    for (let i = this._keys.length - 1; i >= 0; i--) {
      if (this._keys[i] !== key) continue;
      this._keys.splice(i, 1);
      this._names.splice(i, 1);
      this._values.splice(i, 1);
      n++;
    }
    return n;
  }

  #changed(): void {
    if (this.#body === null) void this.body;
    this.#src = null;
    this.#raw = null;
    this.#via = undefined;
    this.#from = undefined;
    this.#to = undefined;
    this.#cseq = undefined;
    this.#contacts = undefined;
  }
}
