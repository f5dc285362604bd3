import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, badRequest, conflict, errorResponses, notFound } from '../shared/errors.ts';
import { HoldError } from '../../pbx/call-hold.ts';
import { transferTargetUser } from '../../pbx/call-transfer.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import type { CallSnapshot, CallView, LegMediaView } from '../../pbx/b2bua.ts';
import { Ok } from './schemas.ts';

const Media = Type.Object({
  local_port: Type.Integer(),
  remote: Type.Union([Type.Null(), Type.String({ description: 'address:port media is sent to' })]),
  packets_in: Type.Integer(), packets_out: Type.Integer(), bytes_in: Type.Integer(), bytes_out: Type.Integer(),
  rtcp_packets_in: Type.Integer(), rtcp_packets_out: Type.Integer(),
  srtp: Type.Union([Type.Null(), Type.Object({
    suite: Type.String({ examples: ['AES_CM_128_HMAC_SHA1_80'] }),
    auth_failures: Type.Integer({ description: 'SRTP/SRTCP packets from the endpoint that failed authentication (dropped, never relayed)' }),
    replays: Type.Integer({ description: 'Replayed packets dropped' }),
  })], { description: 'SDES-SRTP of the leg as the relay runs it; null: plain RTP' }),
});
const Leg = Type.Object({
  sip_call_id: Type.String(),
  peer: Type.Union([Type.Null(), Type.String({ description: 'transport:address:port of the SIP peer' })]),
  media: Type.Union([Type.Null(), Media]),
});
const ActiveCall = Type.Object({
  id: Type.String(),
  state: Type.String({ examples: ['answered'] }),
  direction: Type.String(),
  caller: Type.String(),
  callee: Type.String(),
  did_number: Type.Union([Type.Null(), Type.String()]),
  codec: Type.Union([Type.Null(), Type.String()]),
  start_time: Type.String({ format: 'date-time' }),
  answer_time: Type.Union([Type.Null(), Type.String({ format: 'date-time' })]),
  duration: Type.Number({ description: 'Seconds since the call started' }),
  legs: Type.Object({ a: Leg, b: Leg }),
  on_hold: Type.Boolean({ description: 'A party hears music on hold (held through the API or by the other party\'s phone)' }),
  held_by: Type.Union([Type.Null(), Type.Union([Type.Literal('api'), Type.Literal('caller'), Type.Literal('callee')])], { description: 'Who holds: the API, or the phone of the caller or callee' }),
  held_party: Type.Union([Type.Null(), Type.Union([Type.Literal('caller'), Type.Literal('callee')])], { description: 'The party that hears music on hold' }),
}, { examples: [{ id: '5f0c…', state: 'answered', direction: 'inbound', caller: '+15551234567', callee: '+15557654321', did_number: '+15557654321', codec: 'PCMA/8000', start_time: '2026-01-01T00:00:00.000Z', answer_time: '2026-01-01T00:00:03.000Z', duration: 42.1, legs: { a: { sip_call_id: 'a84b4c76e66710', peer: 'udp:203.0.113.5:5060', media: null }, b: { sip_call_id: '9f3e…', peer: 'udp:198.51.100.7:5060', media: null } }, on_hold: false, held_by: null, held_party: null }] });

const HoldBody = Type.Object({
  hold: Type.Boolean({ description: 'true: hold the party (re-INVITE with a=sendonly, music on hold to it); false: resume (re-INVITE with a=sendrecv)' }),
  leg: Type.Optional(Type.Union([Type.Literal('caller'), Type.Literal('callee')], { description: 'The party to hold or resume; default callee' })),
}, { additionalProperties: false });

const TransferBody = Type.Object({
  target: Type.String({ minLength: 1, maxLength: 256, description: 'A number, a device username or a sip:/tel: URI (its user part is routed like a dialled number)' }),
  type: Type.Optional(Type.Union([Type.Literal('blind'), Type.Literal('attended')], { default: 'blind' })),
}, { additionalProperties: false });
const CallParams = Type.Object({ callID: Type.String({ minLength: 1, maxLength: 128 }) });

function media(m: LegMediaView | null) {
  if (!m) return null;
  return {
    local_port: m.localPort, remote: m.remote,
    packets_in: m.packetsIn, packets_out: m.packetsOut, bytes_in: m.bytesIn, bytes_out: m.bytesOut,
    rtcp_packets_in: m.rtcpPacketsIn, rtcp_packets_out: m.rtcpPacketsOut,
    srtp: m.srtp && { suite: m.srtp.suite, auth_failures: m.srtp.authFailures, replays: m.srtp.replays },
  };
}

/** The API shape of a call, from its snapshot (and media counters when read). */
function shape(call: CallSnapshot, m: CallView['media'] = { a: null, b: null }) {
  return {
    id: call.id, state: call.state, direction: call.direction, caller: call.caller, callee: call.callee,
    did_number: call.didNumber, codec: call.codec,
    start_time: new Date(call.startedAt).toISOString(),
    answer_time: call.answeredAt === null ? null : new Date(call.answeredAt).toISOString(),
    duration: Math.round((Date.now() - call.startedAt) / 100) / 10,
    legs: {
      a: { sip_call_id: call.legs.a.sipCallId ?? '', peer: call.legs.a.peer, media: media(m.a) },
      b: { sip_call_id: call.legs.b.sipCallId ?? '', peer: call.legs.b.peer, media: media(m.b) },
    },
    on_hold: call.hold.onHold, held_by: call.hold.heldBy, held_party: call.hold.heldParty,
  };
}

/** Active calls (seed 003 "Active Calls"): list, inspect, hang up, hold (call-hold.ts), transfer (call-transfer.ts); MOH: moh.ts. */
export async function callsRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['calls'];
  const engine = () => {
    if (!ctx.sip) throw new ApiError('service_unavailable', 'The SIP server is not running');
    return ctx.sip.calls;
  };

  app.get('/calls', {
    schema: { tags, summary: 'Active calls (any logged-in user)', querystring: PaginationQuery, response: { 200: ListOf(ActiveCall), ...errorResponses(400, 401, 503) } },
  }, async (req) => {
    const all = await engine().listCalls();
    const slice = all.slice(req.query.offset, req.query.offset + req.query.limit);
    return page(slice.map((c) => shape(c)), all.length, req.query);
  });


  app.get('/calls/:callID', {
    schema: { tags, summary: 'One active call: both legs, state, codec, packets and bytes per direction', params: CallParams, response: { 200: ActiveCall, ...errorResponses(401, 404, 503) } },
  }, async (req) => {
    const call = await engine().describeCall(req.params.callID, { media: true });
    if (!call) throw notFound('Call');
    return shape(call, call.media);
  });

  app.delete('/calls/:callID', {
    config: { auth: 'admin' },
    schema: { tags, summary: 'Hang up a call (BYE to both legs, or CANCEL while ringing); the CDR says hangup_by api (admin)', params: CallParams, response: { 200: Ok, ...errorResponses(401, 403, 404, 503) } },
  }, async (req) => {
    if (!(await engine().hangupCall(req.params.callID))) throw notFound('Call');
    return { success: true };
  });

  app.post('/calls/:callID/hold', {
    config: { auth: 'admin' },
    schema: {
      tags, params: CallParams, body: HoldBody,
      summary: 'Hold or resume a party of an answered call (admin)',
      description: [
        'Re-INVITEs the party (`leg`, default the callee) with our last SDP to it and `a=sendonly` (RFC 3264 §8.4, new o= version), then loops',
        'the music on hold to it; the other party hears silence. `hold: false` re-INVITEs with `a=sendrecv` and restores the bridge.',
        'Asking for the state the call is already in answers 200 without a re-INVITE. 409 `conflict`: the call is not answered or has ended,',
        'another hold change or re-INVITE is in progress, the other party is held, the hold comes from a phone (only it can resume), or the',
        'party answered 491 twice (one retry after 0-4 s, RFC 3261 §14.1). 502 `bad_gateway`: the party rejected the re-INVITE; nothing changed.',
      ].join(' '),
      response: { 200: ActiveCall, ...errorResponses(400, 401, 403, 404, 409, 502, 503) },
    },
  }, async (req) => {
    let snap;
    try {
      snap = await engine().holdCall(req.params.callID, req.body.hold, req.body.leg ?? 'callee');
    } catch (err) {
      if (!(err instanceof HoldError)) throw err;
      if (err.code === 'HOLD_ERR_REJECTED') throw new ApiError('bad_gateway', err.message, { sip_status: err.status });
      if (err.code === 'HOLD_ERR_UNAVAILABLE') throw new ApiError('service_unavailable', err.message);
      throw conflict(err.message);
    }
    if (!snap) throw notFound('Call');
    return shape(snap);
  });
  app.post('/calls/:callID/transfer', {
    config: { auth: 'admin' },
    schema: {
      tags, params: CallParams, body: TransferBody,
      summary: 'Transfer the call: the caller is kept and connected to the target, the callee is released (admin)',
      description: 'blind: the callee is hung up at once; the answer comes when the target answered (200, the call now connects caller and target) or failed (502 with its SIP status, 504 when it did not answer; the call is then ended with hangup_cause transfer_failed). '
        + 'attended: caller and callee keep talking while the target rings; on answer the callee is hung up; on failure the call goes on. '
        + 'The CDR of the caller-callee pairing ends with hangup_cause transferred; the continuing call gets its own CDR (call_id <id>-t<n>); the call keeps its id here.',
      response: { 200: ActiveCall, ...errorResponses(400, 401, 403, 404, 409, 502, 503, 504) },
    },
  }, async (req) => {
    const user = transferTargetUser(req.body.target);
    if (!user) throw badRequest('target must be a number, a username or a sip:/tel: URI', [{ field: 'target', message: 'not a dialable number or URI' }]);
    const r = await engine().transferCall(req.params.callID, user, req.body.type ?? 'blind');
    if (!r) throw notFound('Call');
    if ('refused' in r) throw conflict(r.refused === 'pending' ? 'A transfer of this call is already pending' : 'The call is not answered (or has ended)');
    if (!r.ok) {
      const details = { sip_status: r.status, reason: r.reason };
      if (r.status === 408 || r.status === 480) throw new ApiError('gateway_timeout', `The transfer target did not answer (${r.status} ${r.reason})`, details);
      throw new ApiError('bad_gateway', `The transfer target failed: ${r.status} ${r.reason}`, details);
    }
    const call = await engine().describeCall(req.params.callID);
    if (!call) throw notFound('Call');
    return shape(call);
  });
  app.delete('/calls/:callID/transfer', {
    config: { auth: 'admin' },
    schema: { tags, params: CallParams, summary: 'Cancel a pending transfer (CANCEL to the ringing target; the call goes on) (admin)', response: { 200: Ok, ...errorResponses(401, 403, 404, 409, 503) } },
  }, async (req) => {
    const r = await engine().cancelTransfer(req.params.callID);
    if (r === 'unknown') throw notFound('Call');
    if (r === 'none') throw conflict('No transfer of this call is pending');
    return { success: true };
  });
}
