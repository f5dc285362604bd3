/**
 * `/call/*` HTTP routes of seed 002: place an outgoing call, end a call, session tokens,
 * incoming-call actions, and the protobuf schema. Handlers validate (TypeBox), call the
 * gateway service and shape the seed's envelope.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { GatewayError } from '../../gateway/call-gateway.ts';
import { PROTO_TEXT } from '../../gateway/call-events.ts';
import { HookContentType, HookUrl, PhoneNumber, SipAuth } from '../../gateway/number-fields.ts';
import { CallApiError } from './errors.ts';
import { ActionRefused, INCOMING_ACTIONS } from '../../gateway/incoming-calls.ts';

const Failure = Type.Object({ status: Type.Literal(false), error: Type.String() }, { examples: [{ status: false, error: 'to_number: must match pattern "^\\+?[0-9*#]{1,31}$"' }] });
const Done = Type.Object({ status: Type.Literal(true) });
const HostPort = Type.String({ minLength: 1, maxLength: 255, pattern: '^(sips?:)?[^\\s<>"@;]+$', description: '`host[:port]` or a sip: URI (default: the from_number\'s setting)', examples: ['127.0.0.1:5080'] });
const Streaming = Type.Object({
  room: Type.String({ minLength: 1, maxLength: 128 }), peer: Type.String({ minLength: 1, maxLength: 128 }), record: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

export const OutgoingBody = Type.Object({
  sip_server: Type.Optional(HostPort),
  sip_proxy: Type.Optional(HostPort),
  sip_auth: Type.Optional(SipAuth),
  from_number: PhoneNumber,
  to_number: PhoneNumber,
  hook: Type.Optional(HookUrl),
  hook_content_type: Type.Optional(HookContentType),
  streaming: Type.Optional(Streaming),
}, { additionalProperties: false, examples: [{ sip_server: 'sip.carrier.example', sip_auth: { username: 'acct', password: 'secret' }, from_number: '+15550001111', to_number: '+15557654321', hook: 'https://app.example/hooks', hook_content_type: 'Json' }] });

const CallIdParams = Type.Object({ call_id: Type.String({ minLength: 1, maxLength: 64 }) });

const wsBase = (req: FastifyRequest) => `${req.protocol === 'https' ? 'wss' : 'ws'}://${req.headers.host ?? req.hostname}`;

export async function callRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['call gateway (seed 002)'];
  const appAuth = { callAuth: 'app' as const };
  const security = [{ bearerAuth: [] }];
  const gateway = () => {
    if (!ctx.callGateway || !ctx.callTokens) throw new CallApiError(503, 'the call gateway is not running on this server');
    return { gw: ctx.callGateway, tokens: ctx.callTokens };
  };
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try { return await fn(); } catch (err) {
      if (err instanceof GatewayError) throw new CallApiError(err.status, err.message);
      throw err;
    }
  };

  app.post('/call/outgoing', {
    config: appAuth,
    schema: {
      tags, security, summary: 'Place an outgoing call (INVITE to to_number@sip_server); answers once the INVITE is on its way',
      description: '`streaming`: once answered, the call joins room `room` as participant `peer` (recorded with `record`; the file\'s path is `recording` in `ended`). A bad room name answers 400, the room limit 409, a node without rooms 503. Events: call_ws and the hook (docs/CALL-API.md).',
      body: OutgoingBody,
      response: {
        200: Type.Object({ status: Type.Literal(true), data: Type.Object({ call_id: Type.String(), call_token: Type.String({ description: 'JWT (HS256): call_id, direction, app_id, exp' }), call_ws: Type.String({ description: 'ws(s)://…/call/ws?token=…' }) }) }),
        400: Failure, 401: Failure, 403: Failure, 409: Failure, 503: Failure,
      },
    },
  }, async (req) => {
    const { gw, tokens } = gateway();
    const appId = req.callApp!.appId;
    const call = await guard(() => gw.outgoing(appId, req.body));
    const token = await tokens.sign({ kind: 'call', call_id: call.id, direction: 'outgoing', app_id: appId });
    return { status: true as const, data: { call_id: call.id, call_token: token, call_ws: `${wsBase(req)}/call/ws?token=${token}` } };
  });

  app.delete('/call/:call_id', {
    config: appAuth,
    schema: { tags, security, summary: 'End a call: CANCEL before the answer, BYE after (idempotent)', params: CallIdParams, response: { 200: Done, 401: Failure, 404: Failure } },
  }, async (req) => {
    if (!gateway().gw.hangup(req.callApp!.appId, req.params.call_id)) throw new CallApiError(404, `call ${req.params.call_id} not found`);
    return { status: true as const };
  });

  app.post('/call/session', {
    config: appAuth,
    schema: {
      tags, security, summary: 'A session token for notify_ws: live incoming-call events of the app',
      body: Type.Object({ session_id: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ status: Type.Literal(true), data: Type.Object({ token: Type.String(), notify_ws: Type.String() }) }), 400: Failure, 401: Failure },
    },
  }, async (req) => {
    const { tokens } = gateway();
    const token = await tokens.sign({ kind: 'session', session_id: req.body.session_id, app_id: req.callApp!.appId });
    return { status: true as const, data: { token, notify_ws: `${wsBase(req)}/call/notify?token=${token}` } };
  });

  app.post('/call/incoming/:call_id/action', {
    config: appAuth,
    schema: {
      tags, security, summary: 'Act on an incoming call: Ring (180), Accept (200 OK), End (603 before the answer, BYE after), Continue (nothing yet)',
      description: 'Accept with `stream`: the call joins room `stream.room` as participant `stream.peer` (recorded with `record`). `stream` without room or peer, or a bad room name, answers 400; a full room 409; a node without rooms 503. A call in the wrong state answers 409.',
      params: CallIdParams,
      body: Type.Object({
        action: Type.Union(INCOMING_ACTIONS.map((a) => Type.Literal(a))),
        stream: Type.Optional(Type.Object({ room: Type.Optional(Type.String({ maxLength: 128 })), peer: Type.Optional(Type.String({ maxLength: 128 })), record: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
      }, { additionalProperties: false }),
      response: { 200: Done, 400: Failure, 401: Failure, 404: Failure, 409: Failure, 503: Failure },
    },
  }, async (req) => {
    const incoming = gateway().gw.incoming;
    if (!incoming) throw new CallApiError(503, 'SIP is not running on this server');
    try {
      await incoming.act(req.callApp!.appId, req.params.call_id, req.body.action, req.body.stream);
    } catch (err) {
      if (err instanceof ActionRefused) throw new CallApiError(err.status, err.message);
      throw err;
    }
    return { status: true as const };
  });

  app.get('/call/proto', {
    schema: { tags, summary: 'The protobuf schema of hook bodies and WebSocket frames (proto/callgw.proto)', response: { 200: Type.String() } },
  }, async (_req, reply) => reply.type('text/plain; charset=utf-8').send(PROTO_TEXT));
}
