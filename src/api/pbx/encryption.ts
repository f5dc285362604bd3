/**
 * `GET /api/system/encryption/status` (seed 003, issue 16): signalling (the TLS and WSS
 * listeners and the certificate they present), media policy (SDES-SRTP settings; ZRTP when a
 * ZRTP service is present, else "not configured"), and for every active call, per leg, whether
 * its signalling and its media are encrypted and how — measured from the legs, not configured.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses } from '../shared/errors.ts';
import { encryptedLegs } from './encryption-legs.ts';

const SECURE_SIGNALLING = new Set(['tls', 'wss']);

const LegView = Type.Object({
  leg: Type.Union([Type.Literal('a'), Type.Literal('b')]),
  kind: Type.String({ examples: ['sip-uas'] }),
  signalling: Type.Union([Type.String(), Type.Null()], { description: 'Transport of the leg\'s SIP dialog (null: no SIP, e.g. voicemail)' }),
  signalling_encrypted: Type.Boolean(),
  media: Type.Union([Type.Literal('srtp'), Type.Literal('rtp'), Type.Literal('none')], { description: 'srtp: the relay (SDES, ZRTP) or the leg\'s WebRTC endpoint (DTLS-SRTP, once its handshake is done) protects and authenticates this leg; rtp: plain; none: no media endpoint' }),
  keying: Type.Union([Type.Literal('sdes'), Type.Literal('zrtp'), Type.Literal('dtls'), Type.Null()], { description: 'Where the SRTP keys of the leg came from: SDP a=crypto (sdes), a ZRTP handshake in the secure state (zrtp), or the DTLS handshake of a WebRTC leg (dtls, RFC 5764)' }),
  dtls_state: Type.Union([Type.String(), Type.Null()], { description: 'State of a WebRTC leg\'s DTLS transport (new, connecting, connected, closed, failed), null for other legs' }),
  zrtp_state: Type.Union([Type.String(), Type.Null()], { description: 'State of the leg\'s ZRTP session, null without one' }),
  suite: Type.Union([Type.String(), Type.Null()]),
  auth_failures: Type.Integer(),
  packets_in: Type.Integer({ description: 'RTP packets received on the leg (SRTP: that passed authentication)' }),
});

const EncryptionStatus = Type.Object({
  signalling: Type.Object({
    listeners: Type.Array(Type.Object({ protocol: Type.String(), address: Type.String(), port: Type.Integer() })),
    certificate: Type.Union([Type.Object({ source: Type.String(), subject: Type.String(), issuer: Type.String(), not_after: Type.String(), fingerprint256: Type.String(), self_signed: Type.Boolean() }), Type.Null()], { description: 'null when no TLS or WSS listener runs' }),
  }),
  media: Type.Object({
    srtp: Type.Object({ default_policy: Type.String(), suites: Type.Array(Type.String()), insecure_signalling_allowed: Type.Boolean() }),
    zrtp: Type.Object({
      configured: Type.Boolean({ description: 'false: the ZRTP service is not running (no SIP side)' }),
      enabled: Type.Boolean(), strict_mode: Type.Boolean(),
      sessions: Type.Integer(), secure: Type.Integer({ description: 'ZRTP sessions in the secure state now' }),
    }),
  }),
  calls: Type.Object({
    active: Type.Integer(),
    encrypted: Type.Integer({ description: 'Calls whose every leg with media is SRTP and whose every SIP leg is on TLS/WSS' }),
    list: Type.Array(Type.Object({ call_id: Type.String(), fully_encrypted: Type.Boolean(), legs: Type.Array(LegView) })),
  }),
});

export async function encryptionRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/system/encryption/status', {
    config: { auth: 'admin' },
    schema: { tags: ['system'], summary: 'What is encrypted now: TLS listeners and certificate, SRTP/ZRTP policy, each active call\'s legs (admin)', response: { 200: EncryptionStatus, ...errorResponses(401, 403, 503) } },
  }, async () => {
    const sip = ctx.sip;
    if (!sip) throw new ApiError('service_unavailable', 'The SIP server is not running');
    const listeners = sip.transports.transports.filter((t) => SECURE_SIGNALLING.has(t.protocol)).map((t) => ({ protocol: t.protocol, address: t.local.address, port: t.local.port }));
    const served = listeners.length > 0 && ctx.tls ? await ctx.tls.certificate() : null;
    const srtp = ctx.srtp?.current;
    const zrtp = ctx.zrtp?.status();
    const zrtpByLeg = new Map((zrtp?.sessions ?? []).map((s) => [s.legId, s.state]));
    const { active, legs } = await encryptedLegs(sip.calls);
    const byCall = new Map<string, ReturnType<typeof legView>[]>();
    for (const l of legs) byCall.set(l.callId, [...(byCall.get(l.callId) ?? []), legView(l, zrtpByLeg.get(l.mediaLegId) ?? null)]);
    const list = [...byCall].map(([callId, views]) => ({
      call_id: callId, legs: views,
      fully_encrypted: views.every((v) => v.media !== 'rtp' && (v.signalling === null || v.signalling_encrypted)),
    }));
    return {
      signalling: {
        listeners,
        certificate: served && { source: ctx.tls!.current.source, subject: served.info.subject, issuer: served.info.issuer, not_after: served.info.notAfter, fingerprint256: served.info.fingerprint256, self_signed: served.info.selfSigned },
      },
      media: {
        srtp: { default_policy: srtp?.defaultPolicy ?? 'off', suites: [...(srtp?.suites ?? [])], insecure_signalling_allowed: srtp?.allowInsecureSignalling ?? false },
        zrtp: zrtp
          ? { configured: true, enabled: zrtp.enabled, strict_mode: zrtp.strictMode, sessions: zrtp.sessions.length, secure: zrtp.totals.secure }
          : { configured: false, enabled: false, strict_mode: false, sessions: 0, secure: 0 },
      },
      calls: { active, encrypted: list.filter((c) => c.fully_encrypted).length, list },
    };
  });
}

function legView(l: Awaited<ReturnType<typeof encryptedLegs>>['legs'][number], zrtpState: string | null) {
  // A WebRTC leg's engine side is plain RTP to its endpoint's loopback shim: what reaches the
  // wire is werift's SRTP, keyed once the DTLS handshake has negotiated a profile.
  const dtls = l.dtls?.state === 'connected' && l.dtls.suite !== null ? l.dtls : null;
  const keying = dtls ? 'dtls' as const : l.srtp ? (zrtpState === 'secure' ? 'zrtp' as const : 'sdes' as const) : null;
  return {
    keying, zrtp_state: zrtpState, dtls_state: l.dtls?.state ?? null,
    leg: l.side, kind: l.kind, signalling: l.signalling,
    signalling_encrypted: l.signalling !== null && SECURE_SIGNALLING.has(l.signalling),
    media: keying ? 'srtp' as const : l.mediaPresent ? 'rtp' as const : 'none' as const,
    suite: dtls?.suite ?? l.srtp?.suite ?? null, auth_failures: l.srtp?.authFailures ?? 0, packets_in: l.packetsIn,
  };
}
