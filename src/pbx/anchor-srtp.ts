/**
 * SDES-SRTP (RFC 4568) of the SDP a call anchors: each leg is its own SRTP session between the
 * endpoint and us, so the offerer's key never goes onwards — the relay decrypts with the
 * endpoint's key and encrypts with ours (`MediaEngine.setSrtp`).
 *
 * - Offer received on a leg: `RTP/SAVP` (or `RTP/AVP` with `a=crypto`, best effort) → we pick
 *   the offered suite we prefer (`SRTP_SUITE_PREFERENCE`), answer with the same tag and a fresh
 *   key of ours (§6.1). `RTP/SAVP` with nothing acceptable, or a plain offer from a leg whose
 *   policy is `required` → 488 with `Warning: 305`.
 * - Offer sent to a leg: per its policy, `RTP/AVP` (off), `RTP/AVP` + our crypto lines
 *   (optional, one per suite), `RTP/SAVP` + our crypto lines (required).
 * - Keys go only into SDP carried over TLS (or WSS): on UDP/TCP anyone on the path could read
 *   them, so such legs are treated as `off` (and `required` ones refused) unless
 *   `STROWGER_SRTP_ALLOW_INSECURE_SIGNALLING=1`.
 * Our key of a leg is kept across re-offers and re-answers that keep the suite, so a re-INVITE
 * (hold, session refresh) does not restart the SRTP session.
 */
import { randomBytes } from 'node:crypto';
import { removeAttributes, getAttributes, type MediaDescription } from '../sdp/index.ts';
import { parseCryptoAttribute, formatCryptoAttribute, type CryptoAttribute } from '../sdp/crypto-attribute.ts';
import { SRTP_SUITES, SRTP_SUITE_PREFERENCE, findSrtpSuite, type SrtpSuiteName } from '../media/srtp/srtp-suites.ts';
import type { SrtpKeys } from '../media/srtp/leg-srtp.ts';
import type { MediaEngine } from '../media/media-engine.ts';
import type { LegId } from '../media/relay-protocol.ts';
import type { SrtpPolicy } from '../store/devices.ts';

export type { SrtpPolicy };

/** What a leg's SDP says and said about SRTP; part of `LegMedia`. */
export interface LegSrtpState {
  /** Policy of the party on this leg (its device); `off` for legs without one. */
  policy: SrtpPolicy;
  /** Keys may travel in this leg's SDP: its signalling is TLS/WSS, or insecure signalling is allowed. */
  keysAllowed: boolean;
  /** Our crypto lines in offers to this leg (one key per suite, kept across re-offers). */
  offered: CryptoAttribute[] | null;
  /** To answer this leg's last offer: its profile and our crypto line (null: plain). */
  answer: { proto: string; line: CryptoAttribute | null } | null;
  /** Keys the engine has for this leg, null = plain RTP. */
  applied: SrtpKeys | null;
  /** Suites we offer and accept on this leg, our preference first (PUT /api/system/srtp/config). */
  suites: readonly SrtpSuiteName[];
}

export function createLegSrtp(): LegSrtpState {
  return { policy: 'off', keysAllowed: false, offered: null, answer: null, applied: null, suites: SRTP_SUITE_PREFERENCE };
}

/** Signalling that may carry keys: TLS, and WSS (WebSocket over TLS). */
const SECURE_SIGNALLING = new Set(['tls', 'wss']);

/**
 * The SRTP settings of one leg from the parties it may reach (the caller; the forks of a
 * callee side, which share one offer): the strictest policy, keys only when every party's
 * signalling is TLS/WSS or `allowInsecure` (STROWGER_SRTP_ALLOW_INSECURE_SIGNALLING).
 */
export function legSrtpPolicy(leg: LegSrtpState, parties: ReadonlyArray<{ policy: SrtpPolicy; transport: string }>, allowInsecure: boolean, suites: readonly SrtpSuiteName[] = SRTP_SUITE_PREFERENCE): void {
  leg.suites = suites;
  const rank: Record<SrtpPolicy, number> = { off: 0, optional: 1, required: 2 };
  leg.policy = parties.reduce<SrtpPolicy>((p, x) => (rank[x.policy] > rank[p] ? x.policy : p), 'off');
  leg.keysAllowed = parties.length > 0 && (allowInsecure || parties.every((x) => SECURE_SIGNALLING.has(x.transport.toLowerCase())));
}

/** Raised for an offer we refuse: `anchor-sdp.ts` turns it into its 488 (Warning 305). */
export type SrtpRefusal = (detail: string) => never;

const isSecureProto = (proto: string): boolean => /^RTP\/SAVPF?$/.test(proto);
const keyLength = (suite: string): number | undefined => {
  const s = findSrtpSuite(suite);
  return s && s.keyLength + s.saltLength;
};

function cryptoLines(media: MediaDescription): CryptoAttribute[] {
  const out: CryptoAttribute[] = [];
  for (const value of getAttributes(media, 'crypto')) {
    const parsed = parseCryptoAttribute(value, keyLength);
    if (parsed.ok) out.push(parsed.value);
  }
  return out;
}

function freshLine(tag: number, suite: SrtpSuiteName): CryptoAttribute {
  const s = SRTP_SUITES[suite];
  return { tag, suite, keySalt: randomBytes(s.keyLength + s.saltLength), lifetime: null };
}

function withCrypto(media: MediaDescription, proto: string, lines: readonly CryptoAttribute[]): void {
  removeAttributes(media, (a) => a.name === 'crypto');
  media.proto = proto;
  for (const line of lines) media.attributes.push({ name: 'crypto', value: formatCryptoAttribute(line) });
}

/** `RTP/AVP` <-> `RTP/SAVP` keeping the feedback suffix (AVPF/SAVPF). */
function profile(proto: string, secure: boolean): string {
  const feedback = proto.endsWith('F') && proto.startsWith('RTP/');
  return secure ? (feedback ? 'RTP/SAVPF' : 'RTP/SAVP') : (feedback ? 'RTP/AVPF' : 'RTP/AVP');
}

/**
 * An offer received on `leg` (its first audio stream `offered`): decides the leg's SRTP and
 * records what to answer. Returns the keys for the engine (null: plain).
 */
export function srtpOfOffer(leg: LegSrtpState, offered: MediaDescription, refuse: SrtpRefusal): SrtpKeys | null {
  const secure = isSecureProto(offered.proto);
  const usable = leg.policy !== 'off' && leg.keysAllowed;
  if (!usable) {
    if (secure) refuse(leg.policy === 'off' ? 'RTP/SAVP offered but SRTP is off for this party' : 'RTP/SAVP offered over signalling that is not TLS (keys would travel in clear)');
    if (leg.policy === 'required') refuse('SRTP is required for this party but its signalling is not TLS');
    leg.answer = { proto: offered.proto, line: null };
    return null;
  }
  const lines = cryptoLines(offered);
  const pick = leg.suites.map((name) => lines.find((l) => l.suite === name)).find((l) => l !== undefined);
  if (!pick) {
    if (secure) refuse('RTP/SAVP offered without a crypto suite we support');
    if (leg.policy === 'required') refuse('SRTP is required for this party: plain RTP offered');
    leg.answer = { proto: offered.proto, line: null };
    return null;
  }
  const previous = leg.answer?.line;
  const ours = previous && previous.tag === pick.tag && previous.suite === pick.suite ? previous : freshLine(pick.tag, pick.suite as SrtpSuiteName);
  leg.answer = { proto: offered.proto, line: ours };
  return { suite: pick.suite as SrtpSuiteName, rxKey: pick.keySalt, txKey: ours.keySalt };
}

/** The answer we send to `leg` (its offer was taken by `srtpOfOffer`): profile and our crypto line. */
export function answerSrtp(leg: LegSrtpState, answer: MediaDescription): void {
  const a = leg.answer;
  withCrypto(answer, a?.proto ?? profile(answer.proto, false), a?.line ? [a.line] : []);
}

/**
 * The offer we send to `leg`, whatever the offerer's profile and keys were: per the leg's policy.
 * @throws through `refuse` when the leg requires SRTP but its signalling cannot carry keys.
 */
export function offerSrtp(leg: LegSrtpState, offer: MediaDescription, refuse: SrtpRefusal): void {
  if (leg.policy === 'off' || !leg.keysAllowed) {
    if (leg.policy === 'required') refuse('the callee requires SRTP but its signalling is not TLS');
    withCrypto(offer, profile(offer.proto, false), []);
    return;
  }
  leg.offered ??= leg.suites.map((suite, i) => freshLine(i + 1, suite));
  withCrypto(offer, profile(offer.proto, leg.policy === 'required'), leg.offered);
}

/**
 * An answer received on `leg` to our offer: the crypto line it accepted (same tag and suite as
 * one of ours). Returns the keys for the engine, null for plain RTP.
 */
export function srtpOfAnswer(leg: LegSrtpState, answered: MediaDescription, refuse: SrtpRefusal): SrtpKeys | null {
  const ours = leg.offered;
  const line = ours === null ? undefined : cryptoLines(answered).find((l) => ours.some((o) => o.tag === l.tag && o.suite === l.suite));
  if (!line) {
    if (ours !== null && leg.policy === 'required') refuse('the callee answered without an SRTP key we offered');
    return null;
  }
  const mine = ours!.find((o) => o.tag === line.tag)!;
  return { suite: line.suite as SrtpSuiteName, rxKey: line.keySalt, txKey: mine.keySalt };
}

/**
 * The answer to a re-offer we built from our last SDP to `leg` (hold, resume: `call-hold.ts`),
 * which repeats our crypto lines. The endpoint may answer with a new key of its own (RFC 4568
 * §7.1.4): the keys to apply, or undefined to keep the current ones (nothing we offered matched).
 */
export function srtpOfReanswer(leg: LegSrtpState, answered: MediaDescription): SrtpKeys | null | undefined {
  const ours = leg.offered ?? (leg.answer?.line ? [leg.answer.line] : []);
  if (ours.length === 0) return null;
  const line = cryptoLines(answered).find((l) => ours.some((o) => o.tag === l.tag && o.suite === l.suite));
  if (!line) return undefined;
  const mine = ours.find((o) => o.tag === line.tag)!;
  return { suite: line.suite as SrtpSuiteName, rxKey: line.keySalt, txKey: mine.keySalt };
}

/** Gives the engine the leg's keys when they changed (plain legs cost no round trip). */
export async function applySrtp(engine: Pick<MediaEngine, 'setSrtp'>, legId: LegId, leg: LegSrtpState, keys: SrtpKeys | null): Promise<void> {
  if (sameKeys(leg.applied, keys)) return;
  await engine.setSrtp(legId, keys);
  leg.applied = keys;
}

function sameKeys(a: SrtpKeys | null, b: SrtpKeys | null): boolean {
  if (a === null || b === null) return a === b;
  return a.suite === b.suite && Buffer.from(a.rxKey).equals(b.rxKey) && Buffer.from(a.txKey).equals(b.txKey);
}
