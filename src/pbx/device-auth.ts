/**
 * Digest authentication of a request from a device (RFC 3261 §22): the registrar's 401 and
 * the call engine's 407 follow the same steps — challenge when no credentials, `stale=true`
 * for an expired nonce, one answer for unknown user and wrong password, failures counted
 * toward a lock of the username at the source address, or a ban of the address when many
 * usernames fail from it (`sip-guard.ts`); a locked username gets `403` (RFC 3261 §21.4.4:
 * "authorization will not help") whatever it sends. On any outcome but success this has
 * already answered.
 *
 * One challenge per response by default (issue 12): each device is sent the algorithm of its
 * `digest_algorithm` setting, because real UAs mishandle several challenges — Debian's
 * baresip 1.0.0 rejects the whole 401 when any challenge is not MD5, JsSIP keeps only the last
 * WWW-Authenticate, sipp 3.6 answers the first. Unknown users get what a device with the
 * default setting gets (MD5), so the challenge does not tell whether a user exists.
 */
import type { Logger } from 'pino';
import type { IncomingRequest } from '../sip/endpoint.ts';
import type { SipMessage } from '../sip/message.ts';
import type { MessageSource } from '../sip/transport-types.ts';
import type { DigestServer, DigestVerifyResult } from '../sip/digest-server.ts';
import type { DigestAlgorithm, DigestHash } from '../sip/digest-algorithm.ts';
import { parseDigestCredentials } from '../sip/digest-credentials.ts';
import type { DigestAlgorithmSetting } from '../store/devices.ts';
import type { DeviceCredentialCache } from './device-credentials.ts';
import type { GuardDecisions, SipBan } from './sip-guard.ts';

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
  guard: GuardDecisions;
  log: Logger;
}

const MD5_ONLY: readonly DigestAlgorithm[] = ['MD5'];
const SHA256_ONLY: readonly DigestAlgorithm[] = ['SHA-256'];
/** What an unknown user is challenged as: no setting, the default's algorithm. */
const NO_ENTRY = { digestAlgorithm: null } as const;
/** Not authenticated, and nothing to count against anyone (shared: callers only read it). */
const NOT_AUTHENTICATED: DeviceAuthResult = Object.freeze({ ok: false, failure: null });

/**
 * The algorithms a device is challenged with and may answer with, in order: its setting's one
 * algorithm, or for `both` every algorithm the server accepts (STROWGER_SIP_DIGEST_ALGORITHMS
 * order). `null` (unknown user) is treated as the default setting, MD5. A setting the server
 * does not accept (STROWGER_SIP_DIGEST_ALGORITHMS=SHA-256 and a device on MD5) falls back to
 * what it does accept, as `both` would.
 */
export function digestAlgorithmsFor(setting: DigestAlgorithmSetting | null, accepted: readonly DigestAlgorithm[]): readonly DigestAlgorithm[] {
  if (setting === 'both') return accepted;
  const one = setting === 'SHA-256' ? SHA256_ONLY : MD5_ONLY;
  return accepted.includes(one[0]!) ? one : accepted;
}

/** The warning a new ban or lock is logged with (where the failure that started it is counted). */
export function logBan(log: Logger, ban: SipBan): void {
  const detail = { ban_id: ban.id, address: ban.address, username: ban.username, reason: ban.reason, count: ban.count, expires_at: new Date(ban.expiresAt).toISOString() };
  if (ban.username === null) log.warn(detail, `SIP address banned: failed digest attempts for ${ban.count} usernames (enumeration)`);
  else log.warn(detail, `SIP username locked at this address after ${ban.count} failed digest attempts`);
}

/**
 * Whose challenge to send before any credentials: the AOR being registered (a device may only
 * register its own, §10.3 step 4) or the caller (From) of other requests.
 */
function claimedUser(msg: SipMessage, kind: keyof typeof KINDS): string | null | undefined {
  return kind === 'www' ? msg.to.uri.user : msg.from.uri.user;
}

/** The challenge header for a device of `setting` (an unknown user: null, the default's). */
function challengeHeaders(digest: DigestServer, kind: keyof typeof KINDS, setting: DigestAlgorithmSetting | null, stale: boolean): Record<string, string[]> {
  return { [KINDS[kind].challenge]: digest.challenges({ stale, algorithms: digestAlgorithmsFor(setting, digest.algorithms) }) };
}

/** A challenge sent without a transaction: status, reason and the challenge header. */
export interface StatelessChallenge {
  status: number;
  reason: string;
  headers: Record<string, string[]>;
}

/**
 * The challenge of a request that carries no credentials, answered statelessly (RFC 3261
 * §8.2.7): what `authenticate` would send for it, when that can be known at once — the claimed
 * user's credentials cached (their digest setting picks the algorithm), the user not locked at
 * the source (that is a `403`). Null otherwise, and for a request with credentials: the
 * stateful path decides. A retransmission is challenged anew, with a fresh nonce; a challenge
 * holds no state, so nothing is lost.
 */
export function createStatelessChallenge(deps: Pick<DeviceAuthDeps, 'digest' | 'credentials' | 'guard'>, kind: keyof typeof KINDS) {
  const { digest, credentials, guard } = deps;
  const k = KINDS[kind];
  return function statelessChallenge(msg: SipMessage, source: MessageSource): StatelessChallenge | null {
    if (msg.hasHeader(k.request)) return null;
    const user = claimedUser(msg, kind);
    if (guard.isLocked(source.remoteAddress, user)) return null;
    const cached = user ? credentials.peek(user) : NO_ENTRY;
    if (cached === undefined) return null;
    return { status: k.status, reason: k.reason, headers: challengeHeaders(digest, kind, cached.digestAlgorithm, false) };
  };
}

export function createDeviceAuth(deps: DeviceAuthDeps, kind: keyof typeof KINDS) {
  const { digest, credentials, guard, log } = deps;
  const k = KINDS[kind];
  // Hoisted: closures made per request cost an allocation each on the registrar's hot path.
  const lookupHa1 = (user: string, realm: string, hash: DigestHash) => credentials.ha1(user, realm, hash);
  const send = (r: IncomingRequest, setting: DigestAlgorithmSetting | null, stale: boolean): void => {
    r.reply(k.status, k.reason, { headers: challengeHeaders(digest, kind, setting, stale) });
  };
  /**
   * Answers the challenge for `username`'s setting: at once when its credentials are cached
   * (the common case, and then no promise and no turn of the microtask queue), else once read.
   */
  const challenge = (r: IncomingRequest, username: string | null | undefined, stale = false): Promise<void> | undefined => {
    const cached = username ? credentials.peek(username) : NO_ENTRY;
    if (cached !== undefined) { send(r, cached.digestAlgorithm, stale); return undefined; }
    return credentials.get(username!).then((e) => send(r, e.digestAlgorithm, stale));
  };

  /** The credentials meant for our realm (a request may carry several, §22.4). */
  const credentialsFor = (r: IncomingRequest): string | null => {
    const all = r.msg.getHeaders(k.request);
    if (all.length <= 1) return all[0] ?? null;
    return all.find((v) => parseDigestCredentials(v)?.realm === digest.realm) ?? all[0]!;
  };

  const fail = async (r: IncomingRequest, reason: DigestVerifyResult['kind'], username: string | null): Promise<DeviceAuthResult> => {
    const ban = guard.recordFailure(r.source.remoteAddress, username);
    if (ban !== null) logBan(log, ban);
    const sent = challenge(r, username);
    if (sent !== undefined) await sent;
    return { ok: false, failure: { reason, username } };
  };
  const locked = (r: IncomingRequest): DeviceAuthResult => {
    r.reply(403, 'Forbidden');
    return NOT_AUTHENTICATED;
  };
  /** Challenged anew (no credentials, a stale nonce, a device gone): no failure to count. */
  const rechallenge = async (r: IncomingRequest, username: string | null | undefined, stale = false): Promise<DeviceAuthResult> => {
    const sent = challenge(r, username, stale);
    if (sent !== undefined) await sent;
    return NOT_AUTHENTICATED;
  };

  return async function authenticate(r: IncomingRequest): Promise<DeviceAuthResult> {
    const ip = r.source.remoteAddress;
    if (guard.isLocked(ip, claimedUser(r.msg, kind))) return locked(r);
    const auth = credentialsFor(r);
    if (auth === null) return rechallenge(r, claimedUser(r.msg, kind));
    const result = await digest.verify(auth, { method: r.msg.method, requestUri: r.msg.requestUriText, lookupHa1 });
    // Checked after verifying too (the digest username need not be the From user), and
    // whatever the outcome, so a locked username learns nothing about its password.
    if (guard.isLocked(ip, result.username)) return locked(r);
    if (result.kind === 'stale') return rechallenge(r, result.username, true);
    if (result.kind !== 'ok') return fail(r, result.kind, result.username ?? null);
    // verify just looked the entry up: cached, so read at once.
    const entry = credentials.peek(result.username) ?? await credentials.get(result.username);
    // Right password, but an algorithm this device is not set to use (e.g. MD5 for a SHA-256
    // device): refused, or the setting would not protect anything.
    if (!digestAlgorithmsFor(entry.digestAlgorithm, digest.algorithms).includes(result.algorithm)) return fail(r, 'unsupported_algorithm', result.username);
    if (entry.deviceId === null) return rechallenge(r, null);
    guard.recordSuccess(ip, result.username);
    return { ok: true, username: result.username, deviceId: entry.deviceId };
  };
}
