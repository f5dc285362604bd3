/**
 * Digest authentication of a request from a device (RFC 3261 §22): the registrar's 401 and
 * the call engine's 407 follow the same steps — challenge when no credentials, `stale=true`
 * for an expired nonce, one answer for unknown user and wrong password, failures counted
 * toward the source's ban. On any outcome but success this has already answered.
 */
import type { Logger } from 'pino';
import type { IncomingRequest } from '../sip/endpoint.ts';
import type { DigestServer, DigestVerifyResult } from '../sip/digest-server.ts';
import type { DigestHash } from '../sip/digest-algorithm.ts';
import { parseDigestCredentials } from '../sip/digest-credentials.ts';
import type { DeviceCredentialCache } from './device-credentials.ts';
import type { SipGuard } from './sip-guard.ts';

export type DeviceAuthResult =
  | { ok: true; username: string; deviceId: number }
  | { ok: false; failure: { reason: DigestVerifyResult['kind']; username: string | null } | null };

const KINDS = {
  /** UAS authentication (REGISTER): 401 + WWW-Authenticate / Authorization. */
  www: { request: 'authorization', challenge: 'WWW-Authenticate', status: 401, reason: 'Unauthorized' },
  /** Proxy authentication (INVITE towards others): 407 + Proxy-Authenticate / Proxy-Authorization. */
  proxy: { request: 'proxy-authorization', challenge: 'Proxy-Authenticate', status: 407, reason: 'Proxy Authentication Required' },
} as const;

export interface DeviceAuthDeps {
  digest: DigestServer;
  credentials: DeviceCredentialCache;
  guard: SipGuard;
  log: Logger;
}

export function createDeviceAuth(deps: DeviceAuthDeps, kind: keyof typeof KINDS) {
  const { digest, credentials, guard, log } = deps;
  const k = KINDS[kind];
  // Hoisted: closures made per request cost an allocation each on the registrar's hot path.
  const lookupHa1 = (user: string, realm: string, hash: DigestHash) => credentials.ha1(user, realm, hash);
  const challenge = (r: IncomingRequest, stale = false) => r.reply(k.status, k.reason, { headers: { [k.challenge]: digest.challenges({ stale }) } });

  /** The credentials meant for our realm (a request may carry several, §22.4). */
  const credentialsFor = (r: IncomingRequest): string | null => {
    const all = r.msg.getHeaders(k.request);
    if (all.length <= 1) return all[0] ?? null;
    return all.find((v) => parseDigestCredentials(v)?.realm === digest.realm) ?? all[0]!;
  };

  return async function authenticate(r: IncomingRequest): Promise<DeviceAuthResult> {
    const auth = credentialsFor(r);
    if (auth === null) { challenge(r); return { ok: false, failure: null }; }
    const result = await digest.verify(auth, { method: r.msg.method, requestUri: r.msg.requestUriText, lookupHa1 });
    if (result.kind === 'stale') { challenge(r, true); return { ok: false, failure: null }; }
    if (result.kind !== 'ok') {
      const ip = r.source.remoteAddress;
      if (guard.recordFailure(ip)) log.warn({ ip }, 'source banned after repeated digest failures');
      r.reply(k.status, k.reason, { headers: { [k.challenge]: digest.challengesFor(result) } });
      return { ok: false, failure: { reason: result.kind, username: result.username ?? null } };
    }
    const deviceId = await credentials.deviceId(result.username);
    if (deviceId === null) { challenge(r); return { ok: false, failure: null }; }
    return { ok: true, username: result.username, deviceId };
  };
}
