/**
 * Digest credentials: the value of Authorization / Proxy-Authorization
 * (RFC 3261 §22.4, RFC 7616 §3.4).
 *
 *   Digest username="bob", realm="atlanta.com", nonce="…", uri="sip:bob@atlanta.com",
 *          response="…", algorithm=SHA-256, cnonce="…", qop=auth, nc=00000001
 */
import { formatAuthParams, parseAuthParams } from './digest-params.ts';
import type { AuthParamEntry } from './digest-params.ts';

/** Parsed Digest credentials; `algorithm` is the raw token (MD5 when absent). */
export interface DigestCredentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  readonly algorithm: string;
  readonly qop?: string | undefined;
  readonly nc?: string | undefined;
  readonly cnonce?: string | undefined;
  readonly opaque?: string | undefined;
}

const NC = /^[0-9a-fA-F]{8}$/;
const REQUIRED = ['username', 'realm', 'nonce', 'uri', 'response'] as const;

/**
 * Parses the first Digest credentials of `value`. Returns undefined when
 * the value is not Digest, is malformed, lacks a required parameter, or has
 * a qop without a valid nc (8 hex digits) and cnonce (RFC 7616 §3.4).
 */
export function parseDigestCredentials(value: string): DigestCredentials | undefined {
  const all = parseAuthParams(value);
  if (all === undefined) return undefined;
  const c = all.find((a) => a.scheme.toLowerCase() === 'digest');
  if (c === undefined) return undefined;
  const p = c.params;
  for (const k of REQUIRED) if (p.get(k) === undefined) return undefined;
  const qop = p.get('qop')?.toLowerCase();
  const nc = p.get('nc');
  const cnonce = p.get('cnonce');
  if (qop !== undefined && (nc === undefined || !NC.test(nc) || cnonce === undefined)) return undefined;
  return {
    username: p.get('username')!,
    realm: p.get('realm')!,
    nonce: p.get('nonce')!,
    uri: p.get('uri')!,
    response: p.get('response')!,
    algorithm: p.get('algorithm') ?? 'MD5',
    qop,
    nc,
    cnonce,
    opaque: p.get('opaque'),
  };
}

/** Formats credentials in the parameter order RFC 7616 §3.9.1 shows. */
export function formatDigestCredentials(c: DigestCredentials): string {
  const entries: AuthParamEntry[] = [
    ['username', c.username, true],
    ['realm', c.realm, true],
    ['uri', c.uri, true],
    ['algorithm', c.algorithm, false],
    ['nonce', c.nonce, true],
  ];
  if (c.qop !== undefined) {
    entries.push(['nc', c.nc ?? '00000001', false], ['cnonce', c.cnonce ?? '', true], ['qop', c.qop, false]);
  }
  entries.push(['response', c.response, true]);
  if (c.opaque !== undefined) entries.push(['opaque', c.opaque, true]);
  return formatAuthParams('Digest', entries);
}
