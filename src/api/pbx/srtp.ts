/**
 * `GET /api/system/srtp/status` and `PUT /api/system/srtp/config` (issue 16): the SDES-SRTP
 * policy (devices and trunks per policy, the default for new ones, whether keys may travel over
 * UDP/TCP signalling), the suites we offer in preference order, and the calls encrypted now —
 * read from the relay legs (`stats(leg).srtp`), not from configuration.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses, validationError } from '../shared/errors.ts';
import { countDevicesBySrtp } from '../../store/devices.ts';
import { countTrunksBySrtp } from '../../store/trunks.ts';
import { SRTP_SUITE_PREFERENCE, type SrtpSuiteName } from '../../media/srtp/srtp-suites.ts';
import type { SrtpSettings } from '../../pbx/srtp-settings.ts';
import { encryptedLegs } from './encryption-legs.ts';

const Policies = Type.Object({ off: Type.Integer(), optional: Type.Integer(), required: Type.Integer() });
const Policy = Type.Union([Type.Literal('off'), Type.Literal('optional'), Type.Literal('required')]);
const Suite = Type.Union(SRTP_SUITE_PREFERENCE.map((s) => Type.Literal(s)));

const EncryptedLeg = Type.Object({
  call_id: Type.String(),
  leg: Type.Union([Type.Literal('a'), Type.Literal('b')], { description: 'a: the caller side, b: the callee side' }),
  suite: Type.String({ examples: ['AES_CM_128_HMAC_SHA1_80'] }),
  auth_failures: Type.Integer({ description: 'SRTP/SRTCP packets from the endpoint that failed authentication (dropped, never relayed)' }),
  replays: Type.Integer(),
  unprotected: Type.Integer({ description: 'Packets from the endpoint that passed authentication and were decrypted' }),
  protected: Type.Integer({ description: 'Packets we encrypted towards the endpoint' }),
});

const SrtpStatus = Type.Object({
  devices: Policies,
  trunks: Policies,
  default_policy: Policy,
  insecure_signalling_allowed: Type.Boolean({ description: 'Keys also in SDP over UDP/TCP (PUT /api/system/srtp/config; default STROWGER_SRTP_ALLOW_INSECURE_SIGNALLING)' }),
  suites: Type.Array(Type.String(), { description: 'Suites we offer and accept, in our preference order' }),
  auth_failure_timeout_seconds: Type.Integer({ description: 'STROWGER_SRTP_AUTH_FAIL_SECONDS: a leg whose packets all fail authentication this long ends its call (srtp_auth_failed); 0 = never' }),
  calls: Type.Object({
    active: Type.Integer(),
    encrypted: Type.Integer({ description: 'Active calls with at least one SRTP leg' }),
    legs: Type.Array(EncryptedLeg, { description: 'Every SRTP leg now, measured from the relay' }),
  }),
}, { examples: [{ devices: { off: 3, optional: 0, required: 1 }, trunks: { off: 1, optional: 0, required: 0 }, default_policy: 'off', insecure_signalling_allowed: false, suites: ['AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'], auth_failure_timeout_seconds: 10, calls: { active: 1, encrypted: 1, legs: [{ call_id: '5f0c…', leg: 'a', suite: 'AES_CM_128_HMAC_SHA1_80', auth_failures: 0, replays: 0, unprotected: 1500, protected: 1500 }] } }] });

const SrtpConfigBody = Type.Object({
  default_policy: Type.Optional(Policy),
  suites: Type.Optional(Type.Array(Suite, { minItems: 1, maxItems: SRTP_SUITE_PREFERENCE.length, uniqueItems: true, description: 'Suites offered and accepted, our preference first' })),
  allow_insecure_signalling: Type.Optional(Type.Boolean({ description: 'Put keys in SDP over UDP/TCP too (anyone on the path can read them)' })),
}, { additionalProperties: false, minProperties: 1, examples: [{ default_policy: 'optional', suites: ['AES_CM_128_HMAC_SHA1_80'] }] });

export async function srtpRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const settings = (): SrtpSettings => {
    if (!ctx.srtp) throw new ApiError('service_unavailable', 'SRTP settings are not loaded');
    return ctx.srtp.current;
  };
  const status = async () => {
    const sip = ctx.sip;
    if (!sip) throw new ApiError('service_unavailable', 'The SIP server is not running');
    const s = settings();
    const { active, legs } = await encryptedLegs(sip.calls);
    const srtpLegs = legs.flatMap((l) => (l.srtp ? [{ call_id: l.callId, leg: l.side, suite: l.srtp.suite, auth_failures: l.srtp.authFailures, replays: l.srtp.replays, unprotected: l.srtp.unprotected, protected: l.srtp.protected }] : []));
    return {
      devices: await countDevicesBySrtp(ctx.store.db),
      trunks: await countTrunksBySrtp(ctx.store.db),
      default_policy: s.defaultPolicy,
      insecure_signalling_allowed: s.allowInsecureSignalling,
      suites: [...s.suites],
      auth_failure_timeout_seconds: Math.round(ctx.config.calls.srtpAuthFailMs / 1000),
      calls: { active, encrypted: new Set(srtpLegs.map((l) => l.call_id)).size, legs: srtpLegs },
    };
  };

  app.get('/system/srtp/status', {
    config: { auth: 'admin' },
    schema: { tags: ['system'], summary: 'SDES-SRTP: policy, suites, and the calls encrypted now (admin)', response: { 200: SrtpStatus, ...errorResponses(401, 403, 503) } },
  }, status);

  app.put('/system/srtp/config', {
    config: { auth: 'admin' },
    schema: {
      tags: ['system'], summary: 'SDES-SRTP settings: default policy of new devices and trunks, suites, insecure signalling (admin)',
      description: 'Applies to calls that start afterwards. Per-device and per-trunk policies are set on the device and the trunk.',
      body: SrtpConfigBody, response: { 200: SrtpStatus, ...errorResponses(400, 401, 403, 503) },
    },
  }, async (req) => {
    const b = req.body;
    if (b.suites && new Set(b.suites).size !== b.suites.length) throw validationError([{ field: 'suites', message: 'must not repeat a suite' }]);
    settings();
    await ctx.srtp!.update({
      ...(b.default_policy !== undefined && { defaultPolicy: b.default_policy }),
      ...(b.suites !== undefined && { suites: b.suites as SrtpSuiteName[] }),
      ...(b.allow_insecure_signalling !== undefined && { allowInsecureSignalling: b.allow_insecure_signalling }),
    });
    return status();
  });
}
