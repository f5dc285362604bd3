/**
 * `/api/webhooks/*` (seed 003): the callbacks Twilio makes. Public routes (no session or API
 * key) authenticated by `X-Twilio-Signature` instead, checked before the body is validated or
 * anything is stored: a missing or wrong signature is a 403 and nothing else happens.
 *
 * The signed URL is the one Twilio called: `STROWGER_PUBLIC_URL` + the request path and query
 * when configured (behind a proxy or NAT, the only trustworthy answer); otherwise the request's
 * own protocol and Host, where `X-Forwarded-Proto`/`-Host` count only with STROWGER_TRUST_PROXY.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { Type, type TProperties } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { errorResponses, forbidden } from '../shared/errors.ts';
import { dialSipTwiml, emptyMessagingTwiml, isValidTwilioSignature, rejectTwiml } from '../../integrations/twilio/webhook.ts';
import { findDidByNumber } from '../../store/dids.ts';
import { upsertTwilioCall } from '../../store/twilio-calls.ts';
import { insertInboundMessage } from '../../store/messages.ts';
import { applyTwilioTranscription } from '../../store/voicemails.ts';
import { applyTwilioStatus } from '../../store/message-outbox.ts';
import { twilioDialUri } from '../../pbx/twilio-dial-uri.ts';
import { deliverSmsOverSip } from '../../pbx/sms-sip-delivery.ts';

type Params = Record<string, string | undefined>;

const Sid = (prefix: string) => Type.String({ pattern: `^${prefix}[0-9a-zA-Z]{32}$` });
const Text = Type.Optional(Type.String({ maxLength: 4096 }));
/** A Twilio webhook body: the fields we read are declared, the many others Twilio sends are allowed. */
const Form = (required: TProperties, optional: string[]) =>
  Type.Object({ ...required, ...Object.fromEntries(optional.map((k) => [k, Text])) }, { additionalProperties: true });

const VoiceForm = Form({ CallSid: Sid('CA') }, ['AccountSid', 'From', 'To', 'CallerName', 'CallStatus', 'Direction', 'CallDuration']);
const SmsForm = Form({ MessageSid: Sid('(SM|MM)') }, ['AccountSid', 'From', 'To', 'Body', 'NumMedia', 'MessageStatus', 'SmsStatus', 'ErrorCode', 'ErrorMessage']);
const RecordingForm = Form({ CallSid: Sid('CA') }, ['RecordingSid', 'RecordingUrl', 'RecordingStatus', 'RecordingDuration']);
const TranscriptionForm = Form({ CallSid: Sid('CA') }, ['TranscriptionSid', 'TranscriptionText', 'TranscriptionStatus', 'RecordingSid']);

const StatusQuery = Type.Object({ message_id: Type.Optional(Type.Integer({ minimum: 1 })) });

const TwiML = { description: 'TwiML', content: { 'text/xml': { schema: { type: 'string' } } } };

/** Twilio's media URLs of an MMS: MediaUrl0 … MediaUrl{NumMedia-1}, http(s) only. */
function mediaUrlsOf(p: Params): string[] {
  const n = Math.min(Number(p.NumMedia ?? 0) || 0, 10);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const u = p[`MediaUrl${i}`];
    if (u && /^https?:\/\//i.test(u)) out.push(u);
  }
  return out;
}

const intOrNull = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : null);

export async function webhooksRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  await base.register(formbody);
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const tags = ['webhooks'];

  const signedUrl = (req: FastifyRequest) => `${ctx.config.twilio.publicUrl ?? `${req.protocol}://${req.host}`}${req.url}`;

  app.addHook('preValidation', async (req) => {
    const signature = req.headers['x-twilio-signature'];
    const creds = await ctx.twilio.credentials();
    const params = (req.body ?? {}) as Record<string, string | string[]>;
    if (!creds || typeof signature !== 'string' || !isValidTwilioSignature(creds.authToken, signature, signedUrl(req), params)) {
      req.log.warn({ url: signedUrl(req), has_signature: typeof signature === 'string', configured: !!creds }, 'twilio webhook refused: bad signature');
      throw forbidden('Invalid or missing X-Twilio-Signature');
    }
  });

  const config = { auth: 'public' as const };
  // Public (no session or key: `security: []`); every answer is TwiML, an empty <Response/> for callbacks.
  const route = (summary: string, body: ReturnType<typeof Form>) => ({
    config, schema: { tags, summary, security: [], consumes: ['application/x-www-form-urlencoded'], body, response: { 200: TwiML, ...errorResponses(400, 403) } },
  });
  const done = (reply: FastifyReply) => reply.type('text/xml').send(emptyMessagingTwiml());

  app.post('/webhooks/voice/incoming', route('Incoming call to a DID (Twilio): TwiML dialling the DID at Strowger over SIP', VoiceForm), async (req, reply) => {
    const p = req.body as Params;
    const did = p.To ? await findDidByNumber(db, p.To) : undefined;
    await upsertTwilioCall(db, p.CallSid!, {
      status: p.CallStatus ?? 'ringing', direction: p.Direction ?? 'inbound', from_number: p.From ?? null, to_number: p.To ?? null, did_id: did?.id ?? null,
    });
    reply.type('text/xml');
    if (!did || did.released_at !== null) return rejectTwiml();
    return dialSipTwiml(twilioDialUri({ didNumber: did.phone_number, domain: ctx.config.domain, sipPort: ctx.config.sip.port, callSid: p.CallSid!, callerName: p.CallerName }));
  });

  app.post('/webhooks/voice/status', route('Call status callback (Twilio)', VoiceForm), async (req, reply) => {
    const p = req.body as Params;
    await upsertTwilioCall(db, p.CallSid!, {
      status: p.CallStatus ?? 'unknown', duration: intOrNull(p.CallDuration),
      ...(p.From ? { from_number: p.From } : {}), ...(p.To ? { to_number: p.To } : {}), ...(p.Direction ? { direction: p.Direction } : {}),
    });
    return done(reply);
  });

  app.post('/webhooks/sms/incoming', route('Incoming SMS/MMS (Twilio): stored once per MessageSid', SmsForm), async (req, reply) => {
    const p = req.body as Params;
    const did = p.To ? await findDidByNumber(db, p.To) : undefined;
    const row = await insertInboundMessage(db, {
      twilioSid: p.MessageSid!, didId: did?.id ?? null, from: p.From ?? '', to: p.To ?? '', body: p.Body ?? '',
      mediaUrls: mediaUrlsOf(p), status: 'received',
    });
    req.log.info({ sid: p.MessageSid, message_id: row?.id, duplicate: !row }, 'sms received');
    // A copy to the DID's phones (RFC 3428), after the answer: Twilio does not wait for phones.
    const sip = ctx.sip;
    if (row && did && sip) {
      void deliverSmsOverSip({ db, endpoint: sip.endpoint, location: sip.location, domain: ctx.config.domain, logger: ctx.logger }, { didId: did.id, from: row.from_number, body: row.body, mediaUrls: JSON.parse(row.media_urls) as string[] })
        .catch((err) => req.log.warn({ err }, 'sms relay to phones failed'));
    }
    return done(reply);
  });

  const statusRoute = route('Message status callback (Twilio); `message_id` is the query parameter our StatusCallback URL carries', SmsForm);
  app.post('/webhooks/sms/status', { ...statusRoute, schema: { ...statusRoute.schema, querystring: StatusQuery } }, async (req, reply) => {
    const p = req.body as Params;
    const status = p.MessageStatus ?? p.SmsStatus;
    const update = { status: status ?? '', errorCode: intOrNull(p.ErrorCode), errorMessage: p.ErrorMessage ?? null };
    if (status) await applyTwilioStatus(db, p.MessageSid!, update, (req.query as { message_id?: number }).message_id);
    return done(reply);
  });

  // Status and recordings are kept on Twilio's call row, which CDRs and voicemails carrying
  // the CallSid show joined on read (`twilio-call-view.ts`), whichever is written first.
  app.post('/webhooks/recording', route('Recording status callback (Twilio)', RecordingForm), async (req, reply) => {
    const p = req.body as Params;
    await upsertTwilioCall(db, p.CallSid!, {
      recording_sid: p.RecordingSid ?? null, recording_url: p.RecordingUrl ?? null, recording_status: p.RecordingStatus ?? null,
      recording_duration: intOrNull(p.RecordingDuration),
    });
    return done(reply);
  });

  app.post('/webhooks/transcription', route('Transcription callback (Twilio)', TranscriptionForm), async (req, reply) => {
    const p = req.body as Params;
    await upsertTwilioCall(db, p.CallSid!, {
      transcription_sid: p.TranscriptionSid ?? null, transcription_status: p.TranscriptionStatus ?? null, transcription_text: p.TranscriptionText ?? null,
      ...(p.RecordingSid ? { recording_sid: p.RecordingSid } : {}),
    });
    // The text becomes the voicemail's (unless a local engine's text is there: see the store).
    if (p.TranscriptionText && p.TranscriptionStatus !== 'failed') {
      const changed = await applyTwilioTranscription(db, p.CallSid!, p.TranscriptionText);
      if (changed.length > 0) req.log.info({ call_sid: p.CallSid, voicemails: changed.map((v) => v.id) }, 'twilio transcription applied to voicemail');
    }
    return done(reply);
  });
}
