import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses, notFound, notImplemented } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import type { Call } from '../../pbx/call.ts';
import type { LegStats } from '../../media/relay-protocol.ts';
import type { B2bua } from '../../pbx/b2bua.ts';
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

function media(s: LegStats | null) {
  if (!s) return null;
  return {
    local_port: s.rtpPort,
    remote: s.rtp.latched ? `${s.rtp.latched.address}:${s.rtp.latched.port}` : s.remote ? `${s.remote.address}:${s.remote.rtpPort}` : null,
    packets_in: s.rtp.packetsIn, packets_out: s.rtp.packetsOut, bytes_in: s.rtp.bytesIn, bytes_out: s.rtp.bytesOut,
    rtcp_packets_in: s.rtcp.packetsIn, rtcp_packets_out: s.rtcp.packetsOut,
  };
}

async function describe(b2bua: B2bua, call: Call, withMedia: boolean) {
  const stats = async (id: number) => (withMedia ? b2bua.legStats(id) : null);
  const [a, b] = await Promise.all([stats(call.legA.id), stats(call.legB.id)]);
  const aSrc = call.a.source;
  const bTarget = call.winner?.sendTarget;
  return {
    id: call.id, state: call.state, direction: call.decision.direction, caller: call.origin.caller, callee: call.origin.callee,
    did_number: call.decision.didNumber, codec: call.codec,
    start_time: new Date(call.startedAt).toISOString(),
    answer_time: call.answeredAt === null ? null : new Date(call.answeredAt).toISOString(),
    duration: Math.round((Date.now() - call.startedAt) / 100) / 10,
    legs: {
      a: { sip_call_id: call.aCallId, peer: `${aSrc.protocol}:${aSrc.remoteAddress}:${aSrc.remotePort}`, media: media(a) },
      b: { sip_call_id: call.bCallId, peer: bTarget ? `${bTarget.protocol}:${bTarget.address}:${bTarget.port}` : null, media: media(b) },
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
    const b2bua = engine();
    const all = [...b2bua.calls.values()].sort((x, y) => x.startedAt - y.startedAt);
    const slice = all.slice(req.query.offset, req.query.offset + req.query.limit);
    return page(await Promise.all(slice.map((c) => describe(b2bua, c, false))), all.length, req.query);
  });

  const notYet = (what: string) => async () => { throw notImplemented(`${what} is not available yet: it lands with the media features (hold, transfer and music on hold)`); };

  app.get('/calls/:callID', {
    schema: { tags, summary: 'One active call: both legs, state, codec, packets and bytes per direction', params: CallParams, response: { 200: ActiveCall, ...errorResponses(401, 404, 503) } },
  }, async (req) => {
    const b2bua = engine();
    const call = b2bua.find(req.params.callID);
    if (!call) throw notFound('Call');
    return describe(b2bua, call, true);
  });

  app.delete('/calls/:callID', {
    config: { auth: 'admin' },
    schema: { tags, summary: 'Hang up a call (BYE to both legs, or CANCEL while ringing); the CDR says hangup_by api (admin)', params: CallParams, response: { 200: Ok, ...errorResponses(401, 403, 404, 503) } },
  }, async (req) => {
    const call = engine().find(req.params.callID);
    if (!call) throw notFound('Call');
    call.hangup('api', 'api_hangup');
    return { success: true };
  });

  const callStub = { schema: { tags, summary: 'Not implemented yet (501)', params: CallParams, response: errorResponses(401, 501) } };
  app.post('/calls/:callID/hold', callStub, notYet('Hold'));
  app.post('/calls/:callID/transfer', callStub, notYet('Transfer'));
  app.delete('/calls/:callID/transfer', callStub, notYet('Transfer'));
}
