/**
 * `GET /api/system/srtp/status` (issue 16): the SDES-SRTP policy (devices per policy, whether
 * keys may travel over UDP/TCP signalling), the suites we offer in preference order, and the
 * calls encrypted now — read from the relay legs (`stats(leg).srtp`), not from configuration.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses } from '../shared/errors.ts';
import { countDevicesBySrtp } from '../../store/devices.ts';
import { SRTP_SUITE_PREFERENCE } from '../../media/srtp/srtp-suites.ts';

const Policies = Type.Object({ off: Type.Integer(), optional: Type.Integer(), required: Type.Integer() }, { description: 'Devices per SRTP policy' });

const EncryptedLeg = Type.Object({
  call_id: Type.String(),
  leg: Type.Union([Type.Literal('a'), Type.Literal('b')], { description: 'a: the caller side, b: the callee side' }),
  suite: Type.String({ examples: ['AES_CM_128_HMAC_SHA1_80'] }),
  auth_failures: Type.Integer({ description: 'Packets from the endpoint that failed authentication (dropped)' }),
  replays: Type.Integer(),
});

const SrtpStatus = Type.Object({
  devices: Policies,
  insecure_signalling_allowed: Type.Boolean({ description: 'STROWGER_SRTP_ALLOW_INSECURE_SIGNALLING: keys also in SDP over UDP/TCP' }),
  suites: Type.Array(Type.String(), { description: 'Suites we offer and accept, in our preference order' }),
  calls: Type.Object({
    active: Type.Integer(),
    encrypted: Type.Integer({ description: 'Active calls with at least one SRTP leg' }),
    legs: Type.Array(EncryptedLeg, { description: 'Every SRTP leg now, measured from the relay' }),
  }),
}, { examples: [{ devices: { off: 3, optional: 0, required: 1 }, insecure_signalling_allowed: false, suites: ['AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'], calls: { active: 1, encrypted: 1, legs: [{ call_id: '5f0c…', leg: 'a', suite: 'AES_CM_128_HMAC_SHA1_80', auth_failures: 0, replays: 0 }] } }] });

export async function srtpRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/system/srtp/status', {
    config: { auth: 'admin' },
    schema: { tags: ['system'], summary: 'SDES-SRTP: policy, suites, and the calls encrypted now (admin)', response: { 200: SrtpStatus, ...errorResponses(401, 403, 503) } },
  }, async () => {
    const sip = ctx.sip;
    if (!sip) throw new ApiError('service_unavailable', 'The SIP server is not running');
    const calls = sip.b2bua.listCalls();
    const views = await Promise.all(calls.map((c) => sip.b2bua.describeCall(c.id, { media: true })));
    const legs = views.flatMap((v) => (v ? (['a', 'b'] as const).flatMap((side) => {
      const s = v.media[side]?.srtp;
      return s ? [{ call_id: v.id, leg: side, suite: s.suite, auth_failures: s.authFailures, replays: s.replays }] : [];
    }) : []));
    return {
      devices: await countDevicesBySrtp(ctx.store.db),
      insecure_signalling_allowed: ctx.config.sip.srtpInsecureSignalling,
      suites: [...SRTP_SUITE_PREFERENCE],
      calls: { active: calls.length, encrypted: new Set(legs.map((l) => l.call_id)).size, legs },
    };
  });
}
