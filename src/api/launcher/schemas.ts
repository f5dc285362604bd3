/**
 * Seed 001 (launcher) shapes. Start parameters come as a JSON body, a form or the query
 * string (merged, body first); booleans accept true/false/1/0/yes/no/on/off, so the handler
 * reads them as text. The seed leaves answers loose: these schemas are the stable contract.
 */
import { Type } from '@sinclair/typebox';

const text = (description: string) => Type.Optional(Type.String({ description }));
const flag = (description: string) => Type.Optional(Type.Union([Type.Boolean(), Type.String()], { description }));

export const StartParams = Type.Object({
  type: text('Record | Streaming | SIP (required).'),
  room: text('Conference (room) name (required).'),
  webrtc_domain: Type.Optional(Type.Unknown({
    description: 'Videoconference domain (required), JSON like {"renavisio_visio_plus": {"name": "Jitsi Meet (meet.jit.si)", "domain": "meet.jit.si"}}, as an object or a JSON string. Only the built-in rooms are served: the value is kept and shown, not used to reach another system.',
  })),
  gw_id: text('Gateway identifier (required): the caller\'s key for stop/status/command.'),
  fromId: text('Caller id / display name of the gateway.'),
  prefix: text('Dial prefix (SIP).'),
  domain: text('SIP domain.'),
  rtmpDst: text('RTMP destination (Streaming).'),
  dial: text('Dial string: SIP URI or number (SIP).'),
  loop: flag('Re-dial / restart when the far end hangs up, until stop.'),
  transcript: flag('Transcribe the recording (Record).'),
  audioOnly: flag('Audio only (Record): the only mode implemented; video composition is not done.'),
  apiKey: text('API key of the videoconference system (kept in memory, never stored or shown).'),
  recipientMail: text('Mail address the recording (and transcript) is sent to (Record).'),
}, { additionalProperties: true });

export const GwIdParams = Type.Object({ gw_id: text('Gateway identifier (required).') }, { additionalProperties: true });

export const ProcessingState = Type.Object({
  gw_id: Type.Union([Type.String(), Type.Null()]),
  processing_state: Type.String({ description: 'starting | running | finalising | stopped | failed | ended, or an error message.' }),
  task: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  room: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String({ description: 'The error message, on errors.' })),
});

const Participant = Type.Object({
  id: Type.String(), kind: Type.String(), display_name: Type.String(), muted: Type.Boolean(),
  hears: Type.Boolean(), speaks: Type.Boolean(), joined_at: Type.String(),
});

export const GatewayStatus = Type.Object({
  gw_id: Type.String(),
  type: Type.String(),
  room: Type.String(),
  processing_state: Type.String({ description: 'starting | running | finalising | stopped | failed | ended (a restart cut it short)' }),
  task: Type.Union([Type.String({ description: 'record | record_transcript | streaming | sip' }), Type.Null()]),
  recording_time: Type.Union([Type.Integer({ description: 'Seconds recorded (Record).' }), Type.Null()]),
  transcript_progress: Type.Union([Type.Integer({ description: 'Percent (an estimate until the engine answers).' }), Type.Null()]),
  participants: Type.Array(Participant),
  chat: Type.Boolean({ description: 'Whether the room\'s chat relay is on (seed 000 GET /chat).' }),
  chat_messages: Type.Array(Type.Object({ id: Type.Integer(), room: Type.String(), from: Type.String(), text: Type.String(), at: Type.String() }), {
    description: 'The room\'s chat messages while the relay was on (the last 50, oldest first); poll and skip the ids seen.',
  }),
  started_at: Type.String(),
  ended_at: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown(), { description: 'Per type: retries, ffmpeg state, mail and transcript state…' }),
});

export const CommandAck = Type.Object({
  gw_id: Type.String(),
  ack: Type.Literal(true),
  received: Type.Unknown({ description: 'The request body, echoed.' }),
  executed: Type.Array(Type.String()),
  unknown: Type.Array(Type.String()),
  failed: Type.Record(Type.String(), Type.String()),
});

export const Detail = Type.Object({ detail: Type.String() }, { description: 'Launcher error (FastAPI style)' });
