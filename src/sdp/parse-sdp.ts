/**
 * SDP parser (RFC 8866 §5, §9 grammar). One pass over the lines, no regex per line beyond
 * integer checks. Accepts LF as well as CRLF line ends and skips blank lines (both seen from
 * real UAs); anything else that breaks the grammar is an `SdpError` with the 1-based line.
 *
 * Leniency, and why:
 * - Fields are accepted in any order inside a section (some phones put `a=` before `c=`);
 *   the serializer writes them back in RFC order.
 * - `t=` may be missing (some SIP UAs omit it; RFC 3264 ignores timing anyway).
 * - A rejected `m=` line (port 0) may have no formats and no connection address.
 * Unknown type letters are kept verbatim in `extra` (RFC 8866 §5 asks parsers to ignore them).
 */
import { parseFmtp, parseIntStrict, parsePacketTime, parseRtcp, parseRtpmap } from './attribute-values.ts';
import { SdpError } from './errors.ts';
import { isRtpProto } from './media-proto.ts';
import type {
  MediaDescription,
  SdpAttribute,
  SdpBandwidth,
  SdpConnection,
  SdpOrigin,
  SessionDescription,
} from './types.ts';

/**
 * Parses an SDP body.
 *
 * @example
 * const sd = parseSdp(body);
 * sd.media[0].port; // 6004
 * @throws SdpError with a `SDP_ERR_*` code when the text is not a valid description.
 */
export function parseSdp(text: string): SessionDescription {
  const lines = text.split('\n');
  let sd: SessionDescription | null = null;
  let media: MediaDescription | null = null;
  let sawVersion = false;
  let sawName = false;

  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '') continue;
    const lineNo = i + 1;
    if (line.length < 2 || line.charCodeAt(1) !== 0x3d /* = */ || !isTypeLetter(line.charCodeAt(0))) {
      throw new SdpError('SDP_ERR_LINE_SYNTAX', { line: lineNo, detail: JSON.stringify(line.slice(0, 40)) });
    }
    const type = line[0];
    const value = line.slice(2);

    if (!sawVersion) {
      if (type !== 'v' || value !== '0') throw new SdpError('SDP_ERR_VERSION', { line: lineNo });
      sawVersion = true;
      continue;
    }
    if (sd === null) {
      if (type !== 'o') throw new SdpError('SDP_ERR_MISSING_FIELD', { line: lineNo, detail: 'o= must follow v=' });
      sd = emptySession(parseOrigin(value, lineNo));
      continue;
    }

    if (type === 'm') {
      media = parseMediaLine(value, lineNo);
      sd.media.push(media);
      continue;
    }
    if (type === 'a') {
      const attribute = parseAttribute(value, lineNo);
      (media ?? sd).attributes.push(attribute);
      continue;
    }

    if (media !== null) {
      switch (type) {
        case 'c':
          media.connections.push(parseConnection(value, lineNo));
          break;
        case 'b':
          media.bandwidths.push(parseBandwidth(value, lineNo));
          break;
        case 'i':
          media.title = once(media.title, value, 'i', lineNo);
          break;
        case 'k':
          media.key = once(media.key, value, 'k', lineNo);
          break;
        default:
          media.extra.push({ type, value });
      }
      continue;
    }

    switch (type) {
      case 's':
        if (sawName) throw new SdpError('SDP_ERR_DUPLICATE_FIELD', { line: lineNo, detail: 's=' });
        sawName = true;
        sd.sessionName = value;
        break;
      case 'i':
        sd.info = once(sd.info, value, 'i', lineNo);
        break;
      case 'u':
        sd.uri = once(sd.uri, value, 'u', lineNo);
        break;
      case 'e':
        sd.emails.push(value);
        break;
      case 'p':
        sd.phones.push(value);
        break;
      case 'c':
        if (sd.connection !== null) throw new SdpError('SDP_ERR_DUPLICATE_FIELD', { line: lineNo, detail: 'c=' });
        sd.connection = parseConnection(value, lineNo);
        break;
      case 'b':
        sd.bandwidths.push(parseBandwidth(value, lineNo));
        break;
      case 't':
        sd.timings.push(parseTiming(value, lineNo));
        break;
      case 'r': {
        const last = sd.timings[sd.timings.length - 1];
        if (last === undefined) throw new SdpError('SDP_ERR_TIMING', { line: lineNo, detail: 'r= before t=' });
        last.repeats.push(value);
        break;
      }
      case 'z':
        sd.timeZones = once(sd.timeZones, value, 'z', lineNo);
        break;
      case 'k':
        sd.key = once(sd.key, value, 'k', lineNo);
        break;
      case 'v':
      case 'o':
        throw new SdpError('SDP_ERR_DUPLICATE_FIELD', { line: lineNo, detail: `${type}=` });
      default:
        sd.extra.push({ type, value });
    }
  }

  if (!sawVersion) throw new SdpError('SDP_ERR_EMPTY');
  if (sd === null) throw new SdpError('SDP_ERR_MISSING_FIELD', { detail: 'o=' });
  if (!sawName) throw new SdpError('SDP_ERR_MISSING_FIELD', { detail: 's=' });
  checkConnections(sd);
  return sd;
}

function isTypeLetter(code: number): boolean {
  return code >= 0x61 && code <= 0x7a; // a-z
}

function emptySession(origin: SdpOrigin): SessionDescription {
  return {
    version: 0,
    origin,
    sessionName: '',
    info: null,
    uri: null,
    emails: [],
    phones: [],
    connection: null,
    bandwidths: [],
    timings: [],
    timeZones: null,
    key: null,
    attributes: [],
    extra: [],
    media: [],
  };
}

function once(previous: string | null, value: string, type: string, line: number): string {
  if (previous !== null) throw new SdpError('SDP_ERR_DUPLICATE_FIELD', { line, detail: `${type}=` });
  return value;
}

function parseOrigin(value: string, line: number): SdpOrigin {
  const p = value.split(' ');
  if (p.length !== 6 || p.some((t) => t === '') || !/^\d+$/.test(p[1]) || !/^\d+$/.test(p[2])) {
    throw new SdpError('SDP_ERR_ORIGIN', { line, detail: JSON.stringify(value) });
  }
  return { username: p[0], sessionId: p[1], sessionVersion: p[2], netType: p[3], addrType: p[4], address: p[5] };
}

function parseConnection(value: string, line: number): SdpConnection {
  const p = value.split(' ');
  if (p.length !== 3 || p.some((t) => t === '')) {
    throw new SdpError('SDP_ERR_CONNECTION', { line, detail: JSON.stringify(value) });
  }
  return { netType: p[0], addrType: p[1], address: p[2] };
}

function parseBandwidth(value: string, line: number): SdpBandwidth {
  const colon = value.indexOf(':');
  const bw = colon > 0 ? parseIntStrict(value.slice(colon + 1), 0, Number.MAX_SAFE_INTEGER) : null;
  if (bw === null) throw new SdpError('SDP_ERR_BANDWIDTH', { line, detail: JSON.stringify(value) });
  return { type: value.slice(0, colon), value: bw };
}

function parseTiming(value: string, line: number) {
  const p = value.split(' ');
  const start = p.length === 2 ? parseIntStrict(p[0], 0, Number.MAX_SAFE_INTEGER) : null;
  const stop = p.length === 2 ? parseIntStrict(p[1], 0, Number.MAX_SAFE_INTEGER) : null;
  if (start === null || stop === null) throw new SdpError('SDP_ERR_TIMING', { line, detail: JSON.stringify(value) });
  return { start, stop, repeats: [] as string[] };
}

/** `m=<media> <port>[/<number of ports>] <proto> <fmt> ...` (RFC 8866 §5.14). */
function parseMediaLine(value: string, line: number): MediaDescription {
  const p = value.split(' ');
  const fail = () => new SdpError('SDP_ERR_MEDIA', { line, detail: JSON.stringify(value) });
  if (p.length < 3 || p[0] === '' || p[2] === '') throw fail();
  const slash = p[1].indexOf('/');
  const port = parseIntStrict(slash < 0 ? p[1] : p[1].slice(0, slash), 0, 65535);
  const portCount = slash < 0 ? null : parseIntStrict(p[1].slice(slash + 1), 1, 65535);
  if (port === null || (slash >= 0 && portCount === null)) throw fail();
  const formats = p.slice(3);
  if (formats.some((f) => f === '') || (formats.length === 0 && port !== 0)) throw fail();
  if (isRtpProto(p[2]) && formats.some((f) => parseIntStrict(f, 0, 127) === null)) throw fail();
  return {
    type: p[0],
    port,
    portCount,
    proto: p[2],
    formats,
    title: null,
    connections: [],
    bandwidths: [],
    key: null,
    attributes: [],
    extra: [],
  };
}

/**
 * `a=<name>[:<value>]` (RFC 8866 §5.13). The values other modules read back without
 * re-validation (rtpmap, fmtp, ptime, maxptime, rtcp) are checked here.
 */
function parseAttribute(value: string, line: number): SdpAttribute {
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  if (name === '') throw new SdpError('SDP_ERR_ATTRIBUTE', { line, detail: 'empty attribute name' });
  if (colon < 0) return { name, value: null };
  const v = value.slice(colon + 1);
  let ok = true;
  switch (name) {
    case 'rtpmap':
      ok = parseRtpmap(v) !== null;
      break;
    case 'fmtp':
      ok = parseFmtp(v) !== null;
      break;
    case 'ptime':
    case 'maxptime':
      ok = parsePacketTime(v) !== null;
      break;
    case 'rtcp':
      ok = parseRtcp(v) !== null;
      break;
  }
  if (!ok) throw new SdpError('SDP_ERR_ATTRIBUTE', { line, detail: JSON.stringify(value) });
  return { name, value: v };
}

/**
 * RFC 8866 §5.7: every media description needs a `c=` of its own or a session-level one.
 * Rejected streams (port 0) are exempt: RFC 3264 §6 lets an answer drop everything but the
 * m= line for them.
 */
function checkConnections(sd: SessionDescription): void {
  if (sd.connection !== null) return;
  for (let i = 0; i < sd.media.length; i++) {
    const m = sd.media[i];
    if (m.connections.length === 0 && m.port !== 0) {
      throw new SdpError('SDP_ERR_NO_CONNECTION', { detail: `m= #${i} (${m.type})` });
    }
  }
}
