/**
 * `/api/system/trunks/tls/*` (seed 003): TLS for our generic trunks and for the Twilio Elastic
 * SIP trunks of the configured account (through its REST API). The status reads both as they
 * are now; enable, migrate and create answer with what changed. Rules: src/pbx/trunk-tls.ts.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { conflict, errorResponses, notFound, validationError } from '../shared/errors.ts';
import { twilioNotConfigured, viaTwilio } from './twilio-errors.ts';
import { countTrunksBySrtp, findTrunkByName, insertTrunk, listTrunks, toTrunk, defaultTrunkPort } from '../../store/trunks.ts';
import { isTlsSipUrl, migrateTwilioOrigination, secureGenericTrunk, secureTwilioTrunk, type Change } from '../../pbx/trunk-tls.ts';
import type { TwilioRest, TwilioSipTrunk } from '../../integrations/twilio/rest-client.ts';

const ChangeSchema = Type.Object({
  target: Type.String({ examples: ['twilio_trunk'] }), id: Type.String(), field: Type.String({ examples: ['secure'] }),
  before: Type.Unknown(), after: Type.Unknown(),
});
const Changes = Type.Object({ changed: Type.Array(ChangeSchema, { description: 'What this request changed (empty: it was already so)' }) });

const GenericTrunkTls = Type.Object({
  id: Type.Integer(), name: Type.String(), host: Type.String(), port: Type.Union([Type.Integer(), Type.Null()]),
  transport: Type.Union([Type.String(), Type.Null()]), tls: Type.Boolean({ description: 'Calls to it are dialled over TLS' }),
  tls_verify: Type.Boolean(), tls_pinned: Type.Boolean(), srtp: Type.String(),
});
const TwilioTrunkTls = Type.Object({
  sid: Type.String(), friendly_name: Type.Union([Type.String(), Type.Null()]), secure: Type.Boolean({ description: 'Twilio Secure Trunking: TLS + SRTP on every call' }),
  origination_urls: Type.Array(Type.Object({ sid: Type.String(), sip_url: Type.String(), tls: Type.Boolean() })),
});
const TrunkTlsStatus = Type.Object({
  trunks: Type.Array(GenericTrunkTls),
  srtp: Type.Object({ off: Type.Integer(), optional: Type.Integer(), required: Type.Integer() }),
  twilio: Type.Object({ configured: Type.Boolean(), error: Type.Union([Type.String(), Type.Null()]), trunks: Type.Array(TwilioTrunkTls) }),
});

const Target = Type.Object({
  trunk_id: Type.Optional(Type.Integer({ minimum: 1, description: 'A generic trunk of ours' })),
  twilio_trunk_sid: Type.Optional(Type.String({ pattern: '^TK[0-9a-fA-F]{32}$', description: 'A Twilio Elastic SIP trunk' })),
}, { additionalProperties: false });
type Target = Static<typeof Target>;

const CreateBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  origination_uri: Type.String({ minLength: 5, maxLength: 512, description: 'sips: or sip:…;transport=tls (Twilio: where it sends calls to us; generic: the carrier we dial)' }),
  provider: Type.Optional(Type.Union([Type.Literal('twilio'), Type.Literal('generic')], { description: 'Default twilio' })),
}, { additionalProperties: false, examples: [{ name: 'Secure SIP Trunk', origination_uri: 'sip:secure.example.com:5061;transport=tls' }] });

function oneTarget(b: Target): void {
  if ((b.trunk_id === undefined) === (b.twilio_trunk_sid === undefined)) {
    throw validationError([{ field: 'trunk_id', message: 'give exactly one of trunk_id and twilio_trunk_sid' }]);
  }
}

export async function trunksTlsRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const admin = { auth: 'admin' as const };
  const tags = ['trunks'];
  const db = ctx.store.db;
  const twilio = async (): Promise<TwilioRest> => {
    const rest = await ctx.twilio.rest();
    if (!rest) throw twilioNotConfigured();
    return rest;
  };
  const twilioTrunk = async (rest: TwilioRest, sid: string): Promise<TwilioSipTrunk> => {
    const t = (await viaTwilio(() => rest.listSipTrunks())).find((x) => x.sid === sid);
    if (!t) throw notFound('Twilio trunk');
    return t;
  };
  const changedTrunk = (id: number) => ctx.events.emit('pbx.trunk.changed', { id });
  /** Our TLS listener's port: where Twilio must send calls once its URLs say transport=tls. */
  const tlsPort = (): number => {
    const t = ctx.sip?.transports.transports.find((x) => x.protocol === 'tls');
    if (!t) throw conflict('No SIP TLS listener runs here (STROWGER_SIP_TLS_PORT): nothing to migrate to');
    return t.local.port;
  };

  /** A generic trunk to TLS (and SRTP required with `srtp`), announced when it changed. */
  const generic = async (id: number, srtp: boolean) => {
    const r = await secureGenericTrunk(db, ctx.box, id, srtp);
    if (!r) throw notFound('Trunk');
    if (r.changes.length > 0) changedTrunk(r.trunk.id);
    return { changed: r.changes };
  };

  app.get('/system/trunks/tls/status', {
    config: admin,
    schema: { tags, summary: 'TLS of our trunks and of the Twilio Elastic SIP trunks, as they are now (admin)', response: { 200: TrunkTlsStatus, ...errorResponses(401, 403) } },
  }, async () => {
    const { rows } = await listTrunks(db, 1000, 0);
    const trunks = rows.map(toTrunk).map((t) => ({
      id: t.id, name: t.name, host: t.host, port: t.port, transport: t.transport, tls: t.transport === 'tls',
      tls_verify: t.tls_verify, tls_pinned: t.tls_fingerprint !== null, srtp: t.srtp,
    }));
    const rest = await ctx.twilio.rest();
    let twilioView: Static<typeof TrunkTlsStatus>['twilio'] = { configured: rest !== null, error: null, trunks: [] };
    if (rest) {
      try {
        const list = await viaTwilio(() => rest.listSipTrunks());
        twilioView.trunks = list.map((t) => ({ sid: t.sid, friendly_name: t.friendlyName, secure: t.secure, origination_urls: t.originationUrls.map((u) => ({ sid: u.sid, sip_url: u.sipUrl, tls: isTlsSipUrl(u.sipUrl) })) }));
      } catch (err) {
        twilioView = { configured: true, error: (err as Error).message, trunks: [] };
      }
    }
    return { trunks, srtp: await countTrunksBySrtp(db), twilio: twilioView };
  });

  app.post('/system/trunks/tls/enable', {
    config: admin,
    schema: {
      tags, summary: 'Secure trunking: TLS signalling and SRTP media for a trunk of ours or a Twilio trunk (admin)',
      description: 'Generic trunk: transport tls (port 5061 when it was the default) and srtp required. Twilio trunk: Secure Trunking on. Answers with what changed.',
      body: Target, response: { 200: Changes, ...errorResponses(400, 401, 403, 404, 409, 502) },
    },
  }, async (req) => {
    oneTarget(req.body);
    if (req.body.trunk_id !== undefined) return generic(req.body.trunk_id, true);
    const rest = await twilio();
    const trunk = await twilioTrunk(rest, req.body.twilio_trunk_sid!);
    return { changed: await viaTwilio(() => secureTwilioTrunk(rest, trunk)) };
  });

  app.post('/system/trunks/tls/migrate', {
    config: admin,
    schema: {
      tags, summary: 'Move trunk signalling to TLS (admin)',
      description: 'Generic trunk: transport tls, SRTP policy kept. Twilio trunk: each origination URL that is not TLS becomes sip:<host>:<our TLS port>;transport=tls. Answers with what changed.',
      body: Target, response: { 200: Changes, ...errorResponses(400, 401, 403, 404, 409, 502) },
    },
  }, async (req) => {
    oneTarget(req.body);
    if (req.body.trunk_id !== undefined) return generic(req.body.trunk_id, false);
    const port = tlsPort();
    const rest = await twilio();
    const trunk = await twilioTrunk(rest, req.body.twilio_trunk_sid!);
    return { changed: await viaTwilio(() => migrateTwilioOrigination(rest, trunk, port)) };
  });

  app.post('/system/trunks/tls/create', {
    config: admin,
    schema: {
      tags, summary: 'Create a secure trunk: a Twilio Elastic SIP trunk (Secure Trunking, TLS origination URL) or a generic TLS + SRTP trunk (admin)',
      body: CreateBody, response: { 201: Type.Object({ provider: Type.String(), id: Type.String(), changed: Type.Array(ChangeSchema) }), ...errorResponses(400, 401, 403, 409, 502) },
    },
  }, async (req, reply) => {
    const b = req.body;
    if (!isTlsSipUrl(b.origination_uri)) throw validationError([{ field: 'origination_uri', message: 'must be sips: or carry ;transport=tls' }]);
    const m = /^sips?:(?:[^@;]+@)?(\[[^\]]+\]|[^:;?]+)(?::(\d{1,5}))?/i.exec(b.origination_uri);
    const port = m?.[2] === undefined ? undefined : Number(m[2]);
    if (!m || (port !== undefined && (port < 1 || port > 65535))) throw validationError([{ field: 'origination_uri', message: 'not a SIP URI with a host' }]);
    if ((b.provider ?? 'twilio') === 'generic') {
      if (await findTrunkByName(db, b.name)) throw conflict('A trunk with this name already exists', [{ field: 'name', message: 'already exists' }]);
      const host = m[1]!.replace(/^\[|\]$/g, '').toLowerCase();
      const row = await insertTrunk(db, ctx.box, {
        name: b.name, host, port: port ?? defaultTrunkPort('tls'), transport: 'tls', username: null, password: null, inboundHosts: [],
        isDefault: false, enabled: true, fromDomain: null, callerId: null, srtp: 'required',
      });
      if (!row) throw conflict('A trunk with this name already exists', [{ field: 'name', message: 'already exists' }]);
      changedTrunk(row.id);
      return reply.status(201).send({ provider: 'generic', id: String(row.id), changed: [{ target: 'trunk', id: String(row.id), field: 'created', before: null, after: { host, port: row.port, transport: 'tls', srtp: 'required' } }] satisfies Change[] });
    }
    const rest = await twilio();
    const t = await viaTwilio(() => rest.createSipTrunk({ friendlyName: b.name, secure: true, originationUrl: b.origination_uri }));
    return reply.status(201).send({
      provider: 'twilio', id: t.sid,
      changed: [
        { target: 'twilio_trunk', id: t.sid, field: 'created', before: null, after: { friendly_name: t.friendlyName, secure: t.secure } },
        ...t.originationUrls.map((u) => ({ target: 'twilio_origination_url' as const, id: u.sid, field: 'created', before: null, after: { sip_url: u.sipUrl } })),
      ] satisfies Change[],
    });
  });
}
