import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses, notFound, notImplemented } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import type { CallSnapshot, CallView, LegMediaView } from '../../pbx/b2bua.ts';
import { Ok } from './schemas.ts';

const Media = Type.Object({
  local_port: Type.Integer(),
  remote: Type.Union([Type.Null(), Type.String({ description: 'address:port media is sent to' })]),
  packets_in: Type.Integer(), packets_out: Type.Integer(), bytes_in: Type.Integer(), bytes_out: Type.Integer(),
  rtcp_packets_in: Type.Integer(), rtcp_packets_out: Type.Integer(),
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
}, { examples: [{ id: '5f0c…', state: 'answered', direction: 'inbound', caller: '+15551234567', callee: '+15557654321', did_number: '+15557654321', codec: 'PCMA/8000', start_time: '2026-01-01T00:00:00.000Z', answer_time: '2026-01-01T00:00:03.000Z', duration: 42.1, legs: { a: { sip_call_id: 'a84b4c76e66710', peer: 'udp:203.0.113.5:5060', media: null }, b: { sip_call_id: '9f3e…', peer: 'udp:198.51.100.7:5060', media: null } } }] });

const CallParams = Type.Object({ callID: Type.String({ minLength: 1, maxLength: 128 }) });

function media(m: LegMediaView | null) {
  if (!m) return null;
  return {
    local_port: m.localPort, remote: m.remote,
    packets_in: m.packetsIn, packets_out: m.packetsOut, bytes_in: m.bytesIn, bytes_out: m.bytesOut,
    rtcp_packets_in: m.rtcpPacketsIn, rtcp_packets_out: m.rtcpPacketsOut,
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
  };
}

/** Active calls (seed 003 "Active Calls"): list, inspect, hang up. Hold/transfer answer 501 until their issue lands (MOH: moh.ts). */
export async function callsRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['calls'];
  const engine = () => {
    if (!ctx.sip) throw new ApiError('service_unavailable', 'The SIP server is not running');
    return ctx.sip.b2bua;
  };

  app.get('/calls', {
    schema: { tags, summary: 'Active calls (any logged-in user)', querystring: PaginationQuery, response: { 200: ListOf(ActiveCall), ...errorResponses(400, 401, 503) } },
  }, async (req) => {
    const all = engine().listCalls();
    const slice = all.slice(req.query.offset, req.query.offset + req.query.limit);
    return page(slice.map((c) => shape(c)), all.length, req.query);
  });

  const notYet = (what: string) => async () => { throw notImplemented(`${what} is not available yet: it lands with the media features (hold, transfer and music on hold)`); };

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
    if (!engine().hangupCall(req.params.callID)) throw notFound('Call');
    return { success: true };
  });

  const callStub = { schema: { tags, summary: 'Not implemented yet (501)', params: CallParams, response: errorResponses(401, 501) } };
  app.post('/calls/:callID/hold', callStub, notYet('Hold'));
  app.post('/calls/:callID/transfer', callStub, notYet('Transfer'));
  app.delete('/calls/:callID/transfer', callStub, notYet('Transfer'));
}
