/** Schemas of `/api/messages` (seed 003, Messages). */
import { Type } from '@sinclair/typebox';
import { E164_PATTERN } from '../../pbx/phone-number.ts';
import { PaginationQuery } from '../shared/pagination.ts';

/** Twilio's longest message body (it splits longer texts into segments up to this). */
export const MAX_BODY_CHARS = 1600;
/** Twilio's limit of media per MMS. */
export const MAX_MEDIA = 10;

const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

export const MessageSchema = Type.Object({
  id: Type.Integer(),
  direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound')]),
  did_id: Type.Union([Type.Integer(), Type.Null()], { description: 'Our DID that sent or received it (null when it is gone or unknown)' }),
  from: Type.String(),
  to: Type.String(),
  body: Type.String(),
  media_urls: Type.Array(Type.String()),
  status: Type.String({ description: 'queued (in our send queue), sending, sent, delivered, undelivered, failed, canceled; received for inbound' }),
  twilio_sid: Type.Union([Type.String(), Type.Null()]),
  error_code: Type.Union([Type.Integer(), Type.Null()], { description: "Twilio's error code of the last failure" }),
  error_message: Type.Union([Type.String(), Type.Null()]),
  read: Type.Boolean(),
  attempts: Type.Integer({ description: 'Send attempts so far' }),
  created_at: Timestamp,
  updated_at: Timestamp,
  sent_at: NullableTimestamp,
  delivered_at: NullableTimestamp,
}, {
  $id: 'Message',
  examples: [{
    id: 1, direction: 'outbound', did_id: 1, from: '+15551234567', to: '+15559876543', body: 'Hello, world!', media_urls: [], status: 'delivered',
    twilio_sid: 'SM0123456789abcdef0123456789abcdef', error_code: null, error_message: null, read: true, attempts: 1,
    created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:05.000Z', sent_at: '2026-01-01T00:00:01.000Z', delivered_at: '2026-01-01T00:00:05.000Z',
  }],
});
export const MessageRef = Type.Ref('Message');

export const SendMessage = Type.Object({
  to: Type.String({ pattern: E164_PATTERN, description: 'E.164 recipient', examples: ['+15559876543'] }),
  from_did_id: Type.Integer({ minimum: 1, description: 'Our DID to send from; it needs the sms capability (mms too with media_urls)' }),
  body: Type.Optional(Type.String({ maxLength: MAX_BODY_CHARS, description: `At most ${MAX_BODY_CHARS} characters; may be empty when media_urls are given` })),
  media_urls: Type.Optional(Type.Array(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048, description: 'http(s) URL Twilio fetches' }), { maxItems: MAX_MEDIA })),
}, { additionalProperties: false, examples: [{ to: '+15559876543', from_did_id: 1, body: 'Hello, world!' }] });

export const ListQuery = Type.Object({
  ...PaginationQuery.properties,
  direction: Type.Optional(Type.Union([Type.Literal('inbound'), Type.Literal('outbound')])),
  read: Type.Optional(Type.Boolean()),
});

/** The other party of a conversation: E.164, a short code, or an alphanumeric sender id. */
export const NumberParams = Type.Object({ number: Type.String({ pattern: '^\\+?[0-9A-Za-z]{1,32}$', examples: ['+15559876543'] }) });

export const Stats = Type.Object({
  total: Type.Integer(),
  inbound: Type.Integer(),
  outbound: Type.Integer(),
  unread: Type.Integer(),
  by_status: Type.Record(Type.String(), Type.Integer()),
}, { examples: [{ total: 12, inbound: 5, outbound: 7, unread: 2, by_status: { received: 5, delivered: 6, failed: 1 } }] });

export const UnreadCount = Type.Object({ count: Type.Integer() }, { examples: [{ count: 2 }] });

export const Conversation = Type.Object({
  number: Type.String({ description: 'The other party' }),
  message_count: Type.Integer(),
  unread_count: Type.Integer(),
  last_message: MessageRef,
});

export const MarkedRead = Type.Object({ success: Type.Boolean(), updated: Type.Integer({ description: 'Messages that were unread' }) });
