/**
 * Typed readers for the attribute values the SDP layer and its users act on. Each returns
 * `null` for a malformed value instead of throwing, so `parseSdp` can turn that into an
 * `SdpError` with the line number and other callers can decide for themselves.
 */
import type { SdpConnection } from './types.ts';

const DIGITS = /^\d+$/;

/** Reads a decimal integer within [min, max], or null. */
export function parseIntStrict(text: string, min: number, max: number): number | null {
  if (!DIGITS.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

/** `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]` (RFC 8866 §6.6). */
export interface Rtpmap {
  payloadType: number;
  encodingName: string;
  clockRate: number;
  /** Encoding parameters: the channel count for audio, null when omitted. */
  channels: number | null;
}

export function parseRtpmap(value: string): Rtpmap | null {
  const space = value.indexOf(' ');
  if (space < 1) return null;
  const payloadType = parseIntStrict(value.slice(0, space), 0, 127);
  if (payloadType === null) return null;
  const parts = value.slice(space + 1).trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts[0] === '') return null;
  const clockRate = parseIntStrict(parts[1], 1, 0xffffffff);
  if (clockRate === null) return null;
  let channels: number | null = null;
  if (parts.length === 3) {
    channels = parseIntStrict(parts[2], 1, 255);
    if (channels === null) return null;
  }
  return { payloadType, encodingName: parts[0], clockRate, channels };
}

/** `a=fmtp:<format> <format specific parameters>` (RFC 8866 §6.15). */
export interface Fmtp {
  format: string;
  parameters: string;
}

export function parseFmtp(value: string): Fmtp | null {
  const space = value.indexOf(' ');
  // `a=fmtp:101` without parameters is malformed but harmless; keep it readable.
  const format = space < 0 ? value : value.slice(0, space);
  if (format === '') return null;
  return { format, parameters: space < 0 ? '' : value.slice(space + 1) };
}

/**
 * Splits `key=value;key2=value2` fmtp parameters (the form used by Opus, H.264, G.729
 * `annexb=no`) into a map with lower-cased keys. Flag-only items (`0-15` for
 * telephone-event, RFC 4733 §2.4.1) map to the empty string.
 */
export function parseFmtpParameters(parameters: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of parameters.split(';')) {
    const trimmed = item.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq < 0) out.set(trimmed.toLowerCase(), '');
    else out.set(trimmed.slice(0, eq).trim().toLowerCase(), trimmed.slice(eq + 1).trim());
  }
  return out;
}

/** `a=ptime:<ms>` / `a=maxptime:<ms>` (RFC 8866 §6.4, §6.5); fractions are allowed. */
export function parsePacketTime(value: string): number | null {
  if (!/^\d+(\.\d+)?$/.test(value)) return null;
  const n = Number(value);
  return n > 0 ? n : null;
}

/** `a=rtcp:<port> [<nettype> <addrtype> <connection-address>]` (RFC 3605 §2.1). */
export interface RtcpAttribute {
  port: number;
  connection: SdpConnection | null;
}

export function parseRtcp(value: string): RtcpAttribute | null {
  const parts = value.split(' ');
  const port = parseIntStrict(parts[0], 0, 65535);
  if (port === null) return null;
  if (parts.length === 1) return { port, connection: null };
  if (parts.length !== 4) return null;
  return { port, connection: { netType: parts[1], addrType: parts[2], address: parts[3] } };
}

export function formatRtcp(rtcp: RtcpAttribute): string {
  if (rtcp.connection === null) return String(rtcp.port);
  const c = rtcp.connection;
  return `${rtcp.port} ${c.netType} ${c.addrType} ${c.address}`;
}

/** `a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]` (RFC 4568 §9.1). */
export interface CryptoAttribute {
  tag: number;
  suite: string;
  /** `inline:<key||salt>[|lifetime][|MKI:length]` entries, split on `;`. */
  keyParams: string[];
  sessionParams: string[];
}

export function parseCrypto(value: string): CryptoAttribute | null {
  const parts = value.split(' ').filter((p) => p !== '');
  if (parts.length < 3) return null;
  const tag = parseIntStrict(parts[0], 0, 999999999);
  if (tag === null) return null;
  return { tag, suite: parts[1], keyParams: parts[2].split(';'), sessionParams: parts.slice(3) };
}

/** `a=fingerprint:<hash-func> <fingerprint>` (RFC 8122 §5). */
export interface FingerprintAttribute {
  hashFunction: string;
  fingerprint: string;
}

export function parseFingerprint(value: string): FingerprintAttribute | null {
  const parts = value.split(' ');
  if (parts.length !== 2 || parts[0] === '' || !/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*$/.test(parts[1])) {
    return null;
  }
  return { hashFunction: parts[0].toLowerCase(), fingerprint: parts[1] };
}
