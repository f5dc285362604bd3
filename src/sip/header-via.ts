/**
 * Via (RFC 3261 §20.42, §18.2.1; RFC 3581 rport; RFC 5118 IPv6).
 *
 *     via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
 *     sent-protocol = protocol-name SLASH protocol-version SLASH transport   (SLASH = SWS "/" SWS)
 *     sent-by       = host [ COLON port ]                                   (COLON = SWS ":" SWS)
 *
 *     SIP / 2.0 / UDP  [2001:db8::1]:5060 ;branch=z9hG4bK776;received=2001:db8::9;rport=5070
 */
import { SipParseError, SipParseErrorCode } from './errors.ts';
import { HOST_CHARS, TOKEN_CHARS, scan, skipWs } from './header-chars.ts';
import { formatParams, parseParams } from './header-params.ts';
import type { SipParams } from './header-params.ts';

/** The magic cookie that marks an RFC 3261 branch (§8.1.1.7). */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

/** One Via value. Fields are plain and mutable; the getters read `params` so they never go stale. */
export class Via {
  /** `SIP` */
  protocolName: string;
  /** `2.0` */
  protocolVersion: string;
  /** Uppercased: `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, `WSS` or an unknown token. */
  transport: string;
  /** Lowercased; IPv6 without brackets. */
  host: string;
  port: number | null;
  params: SipParams;

  constructor(transport: string, host: string, port: number | null, params: SipParams = new Map(), protocolName = 'SIP', protocolVersion = '2.0') {
    this.protocolName = protocolName;
    this.protocolVersion = protocolVersion;
    this.transport = transport;
    this.host = host;
    this.port = port;
    this.params = params;
  }

  /** Transaction id (§17.2.3); null when absent or empty (RFC 2543 peers). */
  get branch(): string | null {
    return this.params.get('branch') ?? null;
  }
  /** Source address a server recorded (§18.2.1). */
  get received(): string | null {
    return this.params.get('received') ?? null;
  }
  /** RFC 3581 rport value; null when absent or present without a value (see `hasRport`). */
  get rport(): number | null {
    const v = this.params.get('rport');
    return v === undefined || v === null ? null : Number(v);
  }
  /** True when the client asked for symmetric response routing (RFC 3581 §3). */
  get hasRport(): boolean {
    return this.params.has('rport');
  }
  get maddr(): string | null {
    return this.params.get('maddr') ?? null;
  }
  get ttl(): number | null {
    const v = this.params.get('ttl');
    return v === undefined || v === null ? null : Number(v);
  }
}

/**
 * Parses one Via value (the list was already split on commas).
 *
 * @example parseVia('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport').branch // 'z9hG4bK1'
 * @throws SipParseError `SIP_ERR_PARSE_VIA`
 */
export function parseVia(s: string): Via {
  let i: number;
  let end: number;
  let name = 'SIP';
  let version = '2.0';
  if (s.startsWith('SIP/2.0/')) i = skipWs(s, 8); // the usual spelling: skip the generic path
  else {
    i = skipWs(s, 0);
    end = scan(TOKEN_CHARS, s, i);
    name = s.slice(i, end).toUpperCase();
    i = expectSlash(s, end);
    end = scan(TOKEN_CHARS, s, i);
    version = s.slice(i, end);
    i = expectSlash(s, end);
  }
  end = scan(TOKEN_CHARS, s, i);
  const transport = upper(s.slice(i, end));
  if (name.length === 0 || version.length === 0 || transport.length === 0) throw viaError(s, 'bad sent-protocol');
  i = skipWs(s, end);
  if (i === end) throw viaError(s, 'missing LWS before sent-by');
  let host: string;
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close === -1) throw viaError(s, 'unterminated IPv6 reference');
    host = s.slice(i + 1, close).toLowerCase();
    end = close + 1;
  } else {
    end = scanHost(s, i);
    host = s.slice(i, end).toLowerCase();
  }
  if (host.length === 0) throw viaError(s, 'missing host');
  i = skipWs(s, end);
  let port: number | null = null;
  if (s.charCodeAt(i) === 0x3a) {
    i = skipWs(s, i + 1);
    end = i;
    while (end < s.length && s.charCodeAt(end) >= 0x30 && s.charCodeAt(end) <= 0x39) end++;
    if (end === i || end - i > 5) throw viaError(s, 'bad port');
    port = Number(s.slice(i, end));
    if (port > 65535) throw viaError(s, 'port out of range');
    i = end;
  }
  const params: SipParams = new Map();
  try {
    i = skipWs(s, parseParams(s, i, params));
  } catch (err) {
    throw viaError(s, (err as Error).message);
  }
  if (i !== s.length) throw viaError(s, `unexpected "${s[i]}"`);
  return new Via(transport, host, port, params, name, version);
}

/** Formats a Via value: `SIP/2.0/UDP host:port;params`. */
export function formatVia(via: Via): string {
  const host = via.host.indexOf(':') === -1 ? via.host : `[${via.host}]`;
  const port = via.port === null ? '' : `:${via.port}`;
  return `${via.protocolName}/${via.protocolVersion}/${via.transport} ${host}${port}${formatParams(via.params)}`;
}

function upper(t: string): string {
  return t === 'UDP' || t === 'TCP' || t === 'TLS' || t === 'WSS' || t === 'WS' ? t : t.toUpperCase();
}

function expectSlash(s: string, i: number): number {
  i = skipWs(s, i);
  if (s.charCodeAt(i) !== 0x2f) throw viaError(s, 'bad sent-protocol');
  return skipWs(s, i + 1);
}

/** Host names and IPv4 only: a bare ':' here starts the port. */
function scanHost(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x3a || c >= 128 || HOST_CHARS[c] !== 1 || c === 0x5b || c === 0x5d) break;
    i++;
  }
  return i;
}

function viaError(s: string, why: string): SipParseError {
  return new SipParseError(SipParseErrorCode.VIA, `${why} in Via "${s}"`);
}
