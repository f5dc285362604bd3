/**
 * Message serialization (RFC 3261 §7): start line, headers with canonical names, one
 * Content-Length always equal to the body length (§20.14, mandatory on stream transports),
 * empty line, body.
 */
import { canonicalName } from './header-names.ts';
import type { SipMessage } from './message.ts';

/**
 * Serializes a message. Header order is kept; compact names become full names; an existing
 * Content-Length line is rewritten in place, otherwise one is appended.
 *
 * @example serialize(createResponse(req, 200)).toString() // 'SIP/2.0 200 OK\r\nVia: ...'
 */
export function serialize(msg: SipMessage): Buffer {
  let head = msg.isRequest
    ? `${msg.method} ${msg.requestUriText} ${msg.version}\r\n`
    : `${msg.version} ${msg.status} ${msg.reason}\r\n`;
  const keys = msg._keys;
  const names = msg._names;
  const values = msg._values;
  const body = msg.body;
  let wroteLength = false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (key === 'content-length') {
      if (wroteLength) continue;
      wroteLength = true;
      head += `Content-Length: ${body.length}\r\n`;
      continue;
    }
    head += `${canonicalName(key, names[i])}: ${values[i]}\r\n`;
  }
  if (!wroteLength) head += `Content-Length: ${body.length}\r\n`;
  head += '\r\n';
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + body.length);
  out.write(head, 0, 'utf8');
  body.copy(out, headLen);
  return out;
}
